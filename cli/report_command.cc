// cloze report RUN_DIR: one self-contained HTML page of the runs RUN_DIR holds. The page is
// made by report/main.py (embedded in the binary), run with a Python 3 that has matplotlib;
// this side checks the arguments, finds that Python and tells the script what only the C++ side
// knows (the GLUE tasks and their human baselines, eval/glue_score.h).
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "eval/glue_score.h"
#include "nlohmann/json.hpp"
#include "report/report_runner.h"

ABSL_DECLARE_FLAG(std::string, output);

namespace cloze::cli {
namespace {

constexpr char kUsage[] = "usage: cloze report RUN_DIR [--output=FILE.html (default RUN_DIR/report.html)]\n";

constexpr char kCommand[] = "cloze report";

// main.py's --context: {"glue_tasks": [in GLUE's order], "human_scores": {task: percent}}.
std::string ReportContext() {
  nlohmann::json tasks = nlohmann::json::array(), human = nlohmann::json::object();
  for (eval::GlueTask task : eval::kGlueTasks) {
    const std::string name(eval::GlueTaskName(task));
    tasks.push_back(name);
    human[name] = eval::GlueHumanTaskScore(task);
  }
  return nlohmann::json{{"glue_tasks", tasks}, {"human_scores", human}}.dump(2);
}

}  // namespace

int RunReportCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) return Fail(kCommand, 2, std::string("expected one RUN_DIR\n") + kUsage);
  const std::string& run_dir = args[0];
  std::error_code error;
  if (!std::filesystem::is_directory(run_dir, error)) {
    return Fail(kCommand, 2,
        run_dir + ": " + (std::filesystem::exists(run_dir, error) ? "not a folder" : "no such folder"));
  }
  std::string output = absl::GetFlag(FLAGS_output);
  if (output.empty()) output = (std::filesystem::path(run_dir) / "report.html").string();
  absl::StatusOr<std::string> python = report::FindPythonWithMatplotlib(report::PythonCandidates());
  if (!python.ok()) return Fail(kCommand, 1, std::string(python.status().message()));
  absl::StatusOr<int> status =
      report::RunReportScript(*python, {.run_dir = run_dir, .output = output, .context_json = ReportContext()});
  if (!status.ok()) return Fail(kCommand, 1, std::string(status.status().message()));
  return *status;
}

}  // namespace cloze::cli
