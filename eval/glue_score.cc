#include "eval/glue_score.h"

#include <cmath>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace cloze::eval {
namespace {

std::string TaskName(GlueTask task) { return std::string(GlueTaskName(task)); }

}  // namespace

std::string_view GlueTaskName(GlueTask task) {
  switch (task) {
    case GlueTask::kCoLA: return "CoLA";
    case GlueTask::kSST2: return "SST-2";
    case GlueTask::kMRPC: return "MRPC";
    case GlueTask::kSTSB: return "STS-B";
    case GlueTask::kQQP: return "QQP";
    case GlueTask::kMNLI: return "MNLI";
    case GlueTask::kQNLI: return "QNLI";
    case GlueTask::kRTE: return "RTE";
    case GlueTask::kWNLI: return "WNLI";
  }
  return "unknown";
}

absl::StatusOr<GlueTask> GlueTaskFromName(std::string_view name) {
  // Debian's Abseil has its own string_view, hence the std::string copies for absl calls.
  const auto canonical = [](std::string_view s) {
    return absl::AsciiStrToLower(absl::StrReplaceAll(std::string(s), {{"-", ""}}));
  };
  for (GlueTask task : kGlueTasks) {
    if (canonical(GlueTaskName(task)) == canonical(name)) return task;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown GLUE task \"", std::string(name),
                   "\" (expected CoLA, SST-2, MRPC, STS-B, QQP, MNLI, QNLI, RTE or WNLI)"));
}

std::vector<std::string_view> GlueMetricNames(GlueTask task) {
  switch (task) {
    case GlueTask::kCoLA: return {"matthews"};
    case GlueTask::kMRPC:
    case GlueTask::kQQP: return {"f1", "accuracy"};
    case GlueTask::kSTSB: return {"pearson", "spearman"};
    case GlueTask::kMNLI: return {"accuracy_matched", "accuracy_mismatched"};
    default: return {"accuracy"};
  }
}

absl::StatusOr<double> GlueTaskScore(GlueTask task, absl::Span<const double> metrics) {
  const std::vector<std::string_view> names = GlueMetricNames(task);
  if (metrics.size() != names.size()) {
    return absl::InvalidArgumentError(absl::StrCat(TaskName(task), ": expected ",
                                                   names.size(), " metric values, got ",
                                                   metrics.size()));
  }
  double sum = 0;
  for (size_t i = 0; i < metrics.size(); ++i) {
    if (!std::isfinite(metrics[i])) {
      return absl::InvalidArgumentError(absl::StrCat(TaskName(task), ": ", std::string(names[i]),
                                                     " is ", metrics[i],
                                                     " (degenerate predictions?)"));
    }
    sum += metrics[i];
  }
  return 100.0 * sum / metrics.size();
}

// Human baselines: Nangia & Bowman, "Human vs. Muppet: A Conservative Estimate of Human
// Performance on the GLUE Benchmark", ACL 2019 (arXiv:1905.10425), shown on the GLUE
// leaderboard as "GLUE Human Baselines" (score 87.1). Checked against the "Human Performance"
// row that Liu et al., "Multi-Task Deep Neural Networks for Natural Language Understanding"
// (arXiv:1901.11504), Table 2, copies from the leaderboard: 66.4, 97.8, 86.3/80.8, 92.7/92.6,
// 59.5/80.4, 92.0/92.8, 91.2, 93.6, 95.9, 87.1 (found with the search tool).
std::vector<double> GlueHumanBaseline(GlueTask task) {
  switch (task) {
    case GlueTask::kCoLA: return {66.4};
    case GlueTask::kSST2: return {97.8};
    case GlueTask::kMRPC: return {86.3, 80.8};
    case GlueTask::kSTSB: return {92.7, 92.6};
    case GlueTask::kQQP: return {59.5, 80.4};
    case GlueTask::kMNLI: return {92.0, 92.8};
    case GlueTask::kQNLI: return {91.2};
    case GlueTask::kRTE: return {93.6};
    case GlueTask::kWNLI: return {95.9};
  }
  return {};
}

double GlueHumanTaskScore(GlueTask task) {
  const std::vector<double> baseline = GlueHumanBaseline(task);
  double sum = 0;
  for (double v : baseline) sum += v;
  return sum / baseline.size();
}

absl::StatusOr<GlueSummary> SummarizeGlue(
    const std::vector<std::pair<GlueTask, std::vector<double>>>& task_metrics) {
  if (task_metrics.empty()) return absl::InvalidArgumentError("GLUE summary: no task");
  GlueSummary summary;
  std::set<GlueTask> seen;
  double sum = 0;
  for (const auto& [task, metrics] : task_metrics) {
    if (!seen.insert(task).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("GLUE summary: ", TaskName(task), " is given twice"));
    }
    absl::StatusOr<double> score = GlueTaskScore(task, metrics);
    if (!score.ok()) return score.status();
    const double human = GlueHumanTaskScore(task);
    summary.tasks.push_back({task, *score, human, *score / human});
    sum += *score;
  }
  summary.average = sum / task_metrics.size();
  summary.is_glue_score = seen.size() == std::size(kGlueTasks);
  return summary;
}

}  // namespace cloze::eval
