// GLUE scores as the GLUE server (gluebenchmark.com) computes them. Each task's score is the
// mean of its reported metrics, x100: CoLA Matthews correlation; MRPC and QQP the mean of F1
// (positive class) and accuracy; STS-B the mean of Pearson and Spearman; MNLI the mean of the
// matched and mismatched accuracies; SST-2, QNLI, RTE, WNLI accuracy. The GLUE score is the
// unweighted mean of the nine task scores (the diagnostic AX is reported but not averaged).
// Metric values go in as the metric functions return them (fractions); scores come out in
// percent, like the leaderboard.
#ifndef CLOZE_EVAL_GLUE_SCORE_H_
#define CLOZE_EVAL_GLUE_SCORE_H_

#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace cloze::eval {

enum class GlueTask { kCoLA, kSST2, kMRPC, kSTSB, kQQP, kMNLI, kQNLI, kRTE, kWNLI };

inline constexpr GlueTask kGlueTasks[] = {
    GlueTask::kCoLA, GlueTask::kSST2, GlueTask::kMRPC, GlueTask::kSTSB, GlueTask::kQQP,
    GlueTask::kMNLI, GlueTask::kQNLI, GlueTask::kRTE,  GlueTask::kWNLI};

// "CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI".
std::string_view GlueTaskName(GlueTask task);
// The inverse, ignoring case and hyphens ("sst2", "STS-B", "mnli" all parse). InvalidArgument
// naming the accepted names otherwise.
absl::StatusOr<GlueTask> GlueTaskFromName(std::string_view name);

// The metrics a task's score averages, in the order GlueTaskScore takes them:
// CoLA {matthews}; MRPC, QQP {f1, accuracy}; STS-B {pearson, spearman};
// MNLI {accuracy_matched, accuracy_mismatched}; the others {accuracy}.
std::vector<std::string_view> GlueMetricNames(GlueTask task);

// 100 x the mean of `metrics` (fractions, in GlueMetricNames order). InvalidArgument when the
// count is wrong or a value is not finite (a NaN correlation from constant predictions).
absl::StatusOr<double> GlueTaskScore(GlueTask task, absl::Span<const double> metrics);

// The published human baseline of a task, in percent and GlueMetricNames order, and its score
// (the mean): Nangia & Bowman 2019, as the leaderboard's "GLUE Human Baselines" row shows it.
std::vector<double> GlueHumanBaseline(GlueTask task);
double GlueHumanTaskScore(GlueTask task);

struct GlueTaskResult {
  GlueTask task;
  double score = 0;              // percent
  double human_score = 0;        // percent
  double relative_to_human = 0;  // score / human_score
};

struct GlueSummary {
  std::vector<GlueTaskResult> tasks;  // in the order given
  double average = 0;                 // mean of the task scores given
  // Whether all nine tasks were given: only then is `average` the GLUE score.
  bool is_glue_score = false;
};

// Scores every (task, metrics) pair and averages them. InvalidArgument for a task given twice,
// no task, or metrics GlueTaskScore refuses (naming the task).
absl::StatusOr<GlueSummary> SummarizeGlue(
    const std::vector<std::pair<GlueTask, std::vector<double>>>& task_metrics);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_GLUE_SCORE_H_
