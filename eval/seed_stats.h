// Summaries over fine-tuning runs that differ only in their seed, and the check for a
// degenerate run (one that collapsed to predicting a single class). Fine-tuning on the small
// GLUE tasks is unstable: BERT restarted such BERT-Large runs, RoBERTa reports the median of
// five; a collapsed run should be seen and reported, not averaged in silently.
#ifndef CLOZE_EVAL_SEED_STATS_H_
#define CLOZE_EVAL_SEED_STATS_H_

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace cloze::eval {

struct SeedSummary {
  int64_t runs = 0;
  double mean = 0;
  double median = 0;  // the mean of the two middle values for an even count (numpy.median)
  // The SAMPLE standard deviation, dividing by n - 1 (numpy.std(ddof=1)), since the seeds are a
  // sample of the runs one could have made. NaN for a single run, as numpy returns.
  double standard_deviation = 0;
  double min = 0;
  double max = 0;
};

// InvalidArgument when there is no value or a value is not finite (a NaN correlation from a
// constant-prediction run must be handled by the caller, e.g. dropped as degenerate).
absl::StatusOr<SeedSummary> SummarizeSeeds(absl::Span<const double> metric_values);

// The class that every prediction is, when all are one class; nullopt when there are at least
// two classes or no prediction.
std::optional<int> SingleClassPredicted(absl::Span<const int> predictions);

// A degenerate run: at least one prediction, all of them one class (classification), or all
// equal (regression: its correlations are NaN).
bool IsDegenerateRun(absl::Span<const int> predictions);
bool IsDegenerateRun(absl::Span<const double> predictions);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_SEED_STATS_H_
