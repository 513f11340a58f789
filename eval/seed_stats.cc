#include "eval/seed_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cloze::eval {

absl::StatusOr<SeedSummary> SummarizeSeeds(absl::Span<const double> metric_values) {
  if (metric_values.empty()) return absl::InvalidArgumentError("seed statistics: no runs");
  for (size_t i = 0; i < metric_values.size(); ++i) {
    if (!std::isfinite(metric_values[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat("seed statistics: run ", i, " has a non-finite value ", metric_values[i]));
    }
  }
  std::vector<double> sorted(metric_values.begin(), metric_values.end());
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  SeedSummary summary;
  summary.runs = n;
  double sum = 0;
  for (double v : metric_values) sum += v;
  summary.mean = sum / n;
  summary.median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  if (n < 2) {
    summary.standard_deviation = std::numeric_limits<double>::quiet_NaN();
  } else {
    double squares = 0;
    for (double v : metric_values) squares += (v - summary.mean) * (v - summary.mean);
    summary.standard_deviation = std::sqrt(squares / (n - 1));
  }
  summary.min = sorted.front();
  summary.max = sorted.back();
  return summary;
}

std::optional<int> SingleClassPredicted(absl::Span<const int> predictions) {
  if (predictions.empty()) return std::nullopt;
  for (int p : predictions) {
    if (p != predictions[0]) return std::nullopt;
  }
  return predictions[0];
}

bool IsDegenerateRun(absl::Span<const int> predictions) {
  return SingleClassPredicted(predictions).has_value();
}

bool IsDegenerateRun(absl::Span<const double> predictions) {
  return !predictions.empty() &&
         std::all_of(predictions.begin(), predictions.end(),
                     [&](double p) { return p == predictions[0]; });
}

}  // namespace cloze::eval
