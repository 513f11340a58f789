// The table `cloze evaluate` reports: per task, fine-tuned over seeds from one checkpoint (and,
// to compare, from scratch), every metric as the run reports it and the task's score, each
// with its statistics over the seeds (mean, median, sample std, min, max), for the final
// evaluation and the best one on dev apart, the degenerate runs named; the GLUE tasks' scores
// against the human baseline, and their average as the GLUE server computes it
// (eval/glue_score.h). Pure: numbers in, numbers out; the command reads the runs and writes the
// files.
//
// A task's score, in percent: for a GLUE task the GLUE task score (the mean of its metrics, x100,
// per seed); for another task its primary (first) metric, x100 unless the run reports it in
// percent already (SQuAD's F1). Degenerate runs (one prediction for every dev example) stay in
// the statistics, as the runs they are, and are listed so that a reader sees them.
#ifndef CLOZE_EVAL_EVALUATION_TABLE_H_
#define CLOZE_EVAL_EVALUATION_TABLE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/glue_score.h"
#include "eval/seed_stats.h"

namespace cloze::eval {

// One seed's evaluation (final, or best on dev) as its run reports it.
struct SeedResult {
  uint64_t seed = 0;
  // As the fine-tune names them, in the task's order (first: the primary): GLUE's
  // "matthews_corrcoef" (CoLA), "f1" and "accuracy" (MRPC, QQP), "pearson" and "spearman"
  // (STS-B), "accuracy" and "accuracy_mismatched" (MNLI), "accuracy" (the others); fractions,
  // except SQuAD's percentages.
  std::vector<std::pair<std::string, double>> metrics;
  bool degenerate = false;
};

// One task fine-tuned over seeds from one initialisation.
struct TaskRuns {
  std::string task;                     // as cloze finetune names it: "CoLA", "SST-2", ..., "pos", "squad"
  std::vector<SeedResult> final_evals;  // one per seed, in seed order
  std::vector<SeedResult> best_evals;   // the same seeds, in the same order
};

// One number over the seeds.
struct SeedColumn {
  std::string name;
  std::vector<double> values;  // per seed
  SeedSummary stats;
};

// One task, from one initialisation, at one evaluation (final or best on dev).
struct EvaluationCell {
  std::vector<SeedColumn> metrics;          // as the runs report them
  SeedColumn score;                         // "score": percent (see the top of this file)
  std::optional<double> relative_to_human;  // GLUE tasks: score.stats.mean / the human score
  std::vector<uint64_t> degenerate_seeds;
  uint64_t top_seed = 0;  // the seed of the highest score (the first of equals)
};

struct InitColumns {
  EvaluationCell final_eval, best_eval;
};

struct TaskRow {
  std::string task;
  std::optional<GlueTask> glue_task;  // when it is one
  std::vector<uint64_t> seeds;
  std::optional<double> human_score;  // GLUE tasks: the human baseline's task score, percent
  InitColumns model;
  std::optional<InitColumns> scratch;  // with scratch runs
};

// The average of the GLUE task scores' means of one column.
struct GlueColumns {
  double final_score = 0, best_score = 0;
};

struct GlueAverage {
  GlueColumns model;
  std::optional<GlueColumns> scratch;
  double human_score = 0;            // the human baseline's average over the same tasks
  std::vector<std::string> tasks;    // the GLUE tasks averaged, in GLUE's order
  std::vector<std::string> missing;  // the others: when any, the average is not the GLUE score
};

struct EvaluationTable {
  std::vector<TaskRow> rows;        // in the order of the runs given
  std::optional<GlueAverage> glue;  // when a GLUE task is among them
};

// Whether the fine-tune reports `task`'s metrics in percent already (SQuAD's exact match and
// F1, as the official scripts print them) rather than as fractions.
bool MetricsInPercent(const std::string& task);

// The table of `model` (one entry per task) and, when `scratch` is not empty, of the same
// tasks from scratch. InvalidArgument naming the task when: there is no task, a task is given
// twice, a task has no seed or its final and best evaluations are of other seeds, seeds report
// different metrics, a GLUE task lacks one of its metrics, a value is not finite; or when
// `scratch` does not have the same tasks (in the same order) and seeds as `model`.
absl::StatusOr<EvaluationTable> BuildEvaluationTable(absl::Span<const TaskRuns> model,
                                                     absl::Span<const TaskRuns> scratch);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_EVALUATION_TABLE_H_
