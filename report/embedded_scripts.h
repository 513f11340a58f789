// The report's Python files (report/*.py), compiled into the binary by a genrule
// (report/embed_scripts.sh), so that `cloze report` needs no path to the source tree.
#ifndef CLOZE_REPORT_EMBEDDED_SCRIPTS_H_
#define CLOZE_REPORT_EMBEDDED_SCRIPTS_H_

#include <span>

namespace cloze::report {

struct EmbeddedFile {
  const char* name;  // the file's base name, e.g. "main.py"
  const char* text;  // its contents
};

// Every file, main.py among them; static storage.
std::span<const EmbeddedFile> EmbeddedReportScripts();

}  // namespace cloze::report

#endif  // CLOZE_REPORT_EMBEDDED_SCRIPTS_H_
