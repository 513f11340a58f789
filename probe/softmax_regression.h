// The linear probe: multinomial logistic regression (softmax over K classes) on frozen
// features, fitted by full-batch L-BFGS.
//
// Objective: the mean cross-entropy of the training rows + (l2 / 2)·‖W‖², the bias not
// penalised. This is scikit-learn's LogisticRegression(multi_class="multinomial",
// solver="lbfgs", C = 1 / (n·l2)) on the same rows, which probe/softmax_regression_test
// checks. Strictly convex in W, so the optimum does not depend on where the fit starts.
//
// Early stopping: with a dev set, the dev accuracy is measured after every L-BFGS
// iteration; the fit returns the parameters of the best one (the earliest of equals) and
// stops once `patience` iterations brought no improvement. The fit starts from zero and
// draws no random numbers, so it is a pure function of its inputs: the "fixed seed" is that
// there is none to vary.
//
// Features are used as given: standardise them first (StandardizeColumns) when their scales
// differ, as a transformer's hidden states' do.
#ifndef CLOZE_PROBE_SOFTMAX_REGRESSION_H_
#define CLOZE_PROBE_SOFTMAX_REGRESSION_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/statusor.h"

namespace cloze::probe {

// n rows of `dim` features (row-major) and each row's class in [0, K).
struct LabelledFeatures {
  int dim = 0;
  std::vector<float> x;      // (n, dim)
  std::vector<int32_t> y;    // (n)
  int64_t rows() const { return static_cast<int64_t>(y.size()); }
  std::span<const float> row(int64_t i) const { return {x.data() + i * dim, static_cast<size_t>(dim)}; }
};

struct SoftmaxRegressionOptions {
  double l2 = 1e-4;            // penalty on the weights (not the bias), per the objective above
  int max_iterations = 200;    // L-BFGS iterations at most
  int memory = 10;             // L-BFGS correction pairs kept
  double gradient_tolerance = 1e-6;  // converged when max |gradient| falls below this
  int patience = 10;           // with a dev set: iterations without a better dev accuracy
};

class SoftmaxRegression {
 public:
  SoftmaxRegression(int num_classes, int dim);

  int num_classes() const { return num_classes_; }
  int dim() const { return dim_; }
  // (K, dim) weights then (K) biases: the parameters the fit optimises.
  std::vector<double>& parameters() { return parameters_; }
  const std::vector<double>& parameters() const { return parameters_; }
  int iterations() const { return iterations_; }  // L-BFGS iterations the fit ran

  // The argmax class of each row of `x` (rows of dim(); ties to the lower class).
  std::vector<int32_t> Predict(std::span<const float> x) const;
  // The fraction of rows of `data` predicted right; 0 for no rows.
  double Accuracy(const LabelledFeatures& data) const;

 private:
  friend absl::StatusOr<SoftmaxRegression> FitSoftmaxRegression(const LabelledFeatures&, const LabelledFeatures*,
                                                                int, const SoftmaxRegressionOptions&);
  int num_classes_, dim_;
  std::vector<double> parameters_;
  int iterations_ = 0;
};

// Fits the probe on `train` (early-stopped on `dev` when it is not null). InvalidArgument
// when train has no rows, a row's class is outside [0, num_classes), num_classes < 2, the
// sizes of x and y disagree, or dev's dim differs from train's.
absl::StatusOr<SoftmaxRegression> FitSoftmaxRegression(const LabelledFeatures& train, const LabelledFeatures* dev,
                                                       int num_classes, const SoftmaxRegressionOptions& options);

// Standardises every column of `fit` to mean 0 and variance 1 with fit's own statistics and
// applies the same shift and scale to `others` (dev, test); a constant column is only
// centred. All must share fit's dim.
void StandardizeColumns(LabelledFeatures& fit, std::span<LabelledFeatures* const> others);

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_SOFTMAX_REGRESSION_H_
