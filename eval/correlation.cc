#include "eval/correlation.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "absl/strings/str_cat.h"

namespace cloze::eval {
namespace {

absl::Status CheckPairs(const char* metric, absl::Span<const double> x,
                        absl::Span<const double> y) {
  if (x.size() != y.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(metric, ": ", x.size(), " values against ", y.size()));
  }
  if (x.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat(metric, ": needs at least 2 values"));
  }
  for (size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
      return absl::InvalidArgumentError(
          absl::StrCat(metric, ": value ", i, " is not finite (", x[i], ", ", y[i], ")"));
    }
  }
  return absl::OkStatus();
}

bool IsConstant(absl::Span<const double> values) {
  return std::all_of(values.begin(), values.end(), [&](double v) { return v == values[0]; });
}

double Mean(absl::Span<const double> values) {
  return std::accumulate(values.begin(), values.end(), 0.0) / values.size();
}

}  // namespace

absl::StatusOr<double> PearsonCorrelation(absl::Span<const double> x,
                                          absl::Span<const double> y) {
  if (absl::Status s = CheckPairs("Pearson correlation", x, y); !s.ok()) return s;
  if (IsConstant(x) || IsConstant(y)) return std::numeric_limits<double>::quiet_NaN();
  const double mean_x = Mean(x), mean_y = Mean(y);
  double xy = 0, xx = 0, yy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mean_x, dy = y[i] - mean_y;
    xy += dx * dy;
    xx += dx * dx;
    yy += dy * dy;
  }
  // Rounding can push |r| a hair past 1 for (anti)identical vectors; scipy clips too.
  return std::clamp(xy / (std::sqrt(xx) * std::sqrt(yy)), -1.0, 1.0);
}

absl::StatusOr<double> SpearmanCorrelation(absl::Span<const double> x,
                                           absl::Span<const double> y) {
  if (absl::Status s = CheckPairs("Spearman correlation", x, y); !s.ok()) return s;
  const std::vector<double> rank_x = AverageRanks(x), rank_y = AverageRanks(y);
  return PearsonCorrelation(rank_x, rank_y);
}

std::vector<double> AverageRanks(absl::Span<const double> values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(values.size());
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && values[order[end]] == values[order[begin]]) ++end;
    // Positions begin..end-1 hold equal values: ranks begin+1..end, averaged.
    const double average = (begin + 1 + end) / 2.0;
    for (size_t k = begin; k < end; ++k) ranks[order[k]] = average;
    begin = end;
  }
  return ranks;
}

}  // namespace cloze::eval
