// A fine-tune repeated over seeds (cloze finetune --seeds=N), summarised as the field reports
// the small GLUE tasks: per metric, over the seeds, mean, median, sample standard deviation,
// min and max, with the per-seed values and the seeds whose run was degenerate (one
// prediction for every dev example) named, not averaged in silently. The final evaluation
// and the best one on dev are summarised apart: the best is selected on the dev set itself.
#ifndef CLOZE_TRAINER_SEEDS_SUMMARY_H_
#define CLOZE_TRAINER_SEEDS_SUMMARY_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace cloze {

// One evaluation as eval_results.json holds it ("final" or "best").
struct SeedEvaluation {
  int64_t step = 0;
  std::vector<std::pair<std::string, double>> metrics;  // in the task's order; no loss
  bool degenerate = false;
};

// One seed's run, read back from its eval_results.json.
struct SeedRunResult {
  uint64_t seed = 0;
  std::string task;
  std::string primary_metric;
  bool finished = false;
  SeedEvaluation final_eval;
  SeedEvaluation best_eval;
};

// <run_dir>/seed-<seed>: where --seeds=N puts the run of one seed.
std::string SeedRunDir(const std::string& run_dir, uint64_t seed);

// Parses <seed_run_dir>/eval_results.json. NotFound when it is missing (the run has not
// evaluated yet); InvalidArgument naming the file and the field when it is malformed.
absl::StatusOr<SeedRunResult> ReadSeedRunResult(const std::string& seed_run_dir, uint64_t seed);

// seeds_summary.json's text: {"task", "primary_metric", "seeds": [...], "final": {...},
// "best": {...}}, where "final" and "best" each hold "metrics": {NAME: {"mean", "median",
// "std", "min", "max", "values": [per seed, in the order of `runs`]}} and
// "degenerate_seeds": [...]. "std" is null for a single seed (undefined). InvalidArgument
// when there is no run, the runs are of different tasks or report different metrics, or a
// value is not finite.
absl::StatusOr<std::string> SeedsSummaryJson(absl::Span<const SeedRunResult> runs);

// A short table for the terminal: one row per metric and kind (final, best), with
// mean ± std, median, min and max, then the degenerate seeds, if any.
absl::StatusOr<std::string> SeedsSummaryTable(absl::Span<const SeedRunResult> runs);

}  // namespace cloze

#endif  // CLOZE_TRAINER_SEEDS_SUMMARY_H_
