// lines: a whole passage per line (CMRC contexts, many Wikipedia dumps), each line its own
// document, split into sentences.
#include "data/input_format.h"

namespace cloze::data {
namespace {

class LinesFormat : public InputFormat {
 public:
  void Line(std::string_view line, DocumentAssembler& out) override {
    out.AddText(line);
    out.EndDocument();
  }
  // A bad line is a whole passage, already counted as a skipped line.
  void SkippedLine(DocumentAssembler&) override {}
};

}  // namespace

std::unique_ptr<InputFormat> MakeLinesFormat() { return std::make_unique<LinesFormat>(); }

}  // namespace cloze::data
