// Correlation of predicted and gold scores (STS-B), as scipy.stats computes them: Pearson's r
// (pearsonr) and Spearman's rho (spearmanr: Pearson's r of the ranks, tied values sharing the
// average of their ranks, i.e. rankdata(method="average")). Results lie in [-1, 1].
//
// Constant input: when either vector has all values equal the correlation is undefined, and
// both functions return NaN, as scipy does (it also warns ConstantInputWarning). Callers that
// average scores must decide what a NaN means (a degenerate run); the GLUE helpers refuse it.
#ifndef CLOZE_EVAL_CORRELATION_H_
#define CLOZE_EVAL_CORRELATION_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace cloze::eval {

// InvalidArgument when the lengths differ, there are fewer than 2 values (scipy raises), or a
// value is not finite.
absl::StatusOr<double> PearsonCorrelation(absl::Span<const double> x, absl::Span<const double> y);
absl::StatusOr<double> SpearmanCorrelation(absl::Span<const double> x,
                                           absl::Span<const double> y);

// 1-based ranks with ties averaged (scipy.stats.rankdata(values, method="average")).
std::vector<double> AverageRanks(absl::Span<const double> values);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_CORRELATION_H_
