// Runs the report script (report/main.py, embedded in the binary) with a Python 3 that has
// matplotlib: the C++ side of `cloze report`.
#ifndef CLOZE_REPORT_REPORT_RUNNER_H_
#define CLOZE_REPORT_REPORT_RUNNER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cloze::report {

struct ReportRequest {
  std::string run_dir;
  std::string output;        // the HTML file to write
  std::string context_json;  // what the script is told (main.py's --context)
};

// The Python interpreters to try, in order: $CLOZE_PYTHON alone when it is set; otherwise
// python3 on PATH, then /usr/bin/python3 (Debian's python3-matplotlib is installed for that
// one, and a python3 earlier on PATH, a pyenv or virtualenv one, may lack it).
std::vector<std::string> PythonCandidates();

// The first candidate that starts and has matplotlib and numpy. FailedPrecondition otherwise,
// saying of each candidate what it lacks ("not found", "has no matplotlib") and what to install.
absl::StatusOr<std::string> FindPythonWithMatplotlib(const std::vector<std::string>& candidates);

// Writes the embedded scripts into a new temporary folder, runs main.py there with `python`
// (its stdout and stderr are this process's), and removes the folder. Returns the script's exit
// status (128 + the signal when one killed it); Internal when it could not be started.
absl::StatusOr<int> RunReportScript(const std::string& python, const ReportRequest& request);

}  // namespace cloze::report

#endif  // CLOZE_REPORT_REPORT_RUNNER_H_
