#include "probe/softmax_regression.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/blas.h"

namespace cloze::probe {
namespace {

// The objective of the header and its gradient at `theta` ((K, D) weights, then K biases).
class Objective {
 public:
  Objective(const LabelledFeatures& data, int num_classes, double l2)
      : data_(data), k_(num_classes), l2_(l2), weights_(static_cast<size_t>(k_) * data.dim),
        logits_(static_cast<size_t>(data.rows()) * k_), dweights_(weights_.size()) {}

  double Evaluate(const std::vector<double>& theta, std::vector<double>& gradient) {
    const int64_t n = data_.rows(), d = data_.dim;
    for (size_t i = 0; i < weights_.size(); ++i) weights_[i] = static_cast<float>(theta[i]);
    const double* bias = theta.data() + weights_.size();
    // logits (n, K) = X · Wᵀ; the bias is added in the loop below.
    cpu::gemm(false, true, n, k_, d, 1.0f, data_.x.data(), d, weights_.data(), d, 0.0f, logits_.data(), k_);
    gradient.assign(theta.size(), 0.0);
    double* dbias = gradient.data() + weights_.size();
    double loss = 0;
    for (int64_t i = 0; i < n; ++i) {
      float* row = logits_.data() + i * k_;
      double max_logit = -INFINITY;
      for (int c = 0; c < k_; ++c) max_logit = std::max(max_logit, row[c] + bias[c]);
      double total = 0;
      for (int c = 0; c < k_; ++c) total += std::exp(row[c] + bias[c] - max_logit);
      const int y = data_.y[i];
      loss += max_logit + std::log(total) - (row[y] + bias[y]);
      // The row becomes d(mean loss)/d(logits): (softmax - one-hot) / n.
      for (int c = 0; c < k_; ++c) {
        const double p = std::exp(row[c] + bias[c] - max_logit) / total;
        const double dlogit = (p - (c == y ? 1.0 : 0.0)) / n;
        row[c] = static_cast<float>(dlogit);
        dbias[c] += dlogit;
      }
    }
    // dW (K, D) = dlogitsᵀ · X.
    cpu::gemm(true, false, k_, d, n, 1.0f, logits_.data(), k_, data_.x.data(), d, 0.0f, dweights_.data(), d);
    double penalty = 0;
    for (size_t i = 0; i < weights_.size(); ++i) {
      gradient[i] = dweights_[i] + l2_ * theta[i];
      penalty += theta[i] * theta[i];
    }
    return loss / n + 0.5 * l2_ * penalty;
  }

 private:
  const LabelledFeatures& data_;
  int k_;
  double l2_;
  std::vector<float> weights_, logits_, dweights_;
};

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0);
}

// One L-BFGS correction pair: s = step taken, y = change of gradient, rho = 1 / (s·y).
struct Correction {
  std::vector<double> s, y;
  double rho;
};

// The L-BFGS direction -H·g (Nocedal & Wright, algorithm 7.4); -g with no corrections.
std::vector<double> Direction(const std::deque<Correction>& memory, const std::vector<double>& gradient) {
  std::vector<double> q = gradient;
  std::vector<double> alpha(memory.size());
  for (int i = static_cast<int>(memory.size()) - 1; i >= 0; --i) {
    alpha[i] = memory[i].rho * Dot(memory[i].s, q);
    for (size_t j = 0; j < q.size(); ++j) q[j] -= alpha[i] * memory[i].y[j];
  }
  if (!memory.empty()) {
    const Correction& last = memory.back();
    const double gamma = Dot(last.s, last.y) / Dot(last.y, last.y);
    for (double& v : q) v *= gamma;
  }
  for (size_t i = 0; i < memory.size(); ++i) {
    const double beta = memory[i].rho * Dot(memory[i].y, q);
    for (size_t j = 0; j < q.size(); ++j) q[j] += (alpha[i] - beta) * memory[i].s[j];
  }
  for (double& v : q) v = -v;
  return q;
}

absl::Status CheckData(const LabelledFeatures& data, int num_classes, const char* name) {
  if (data.dim <= 0 || data.x.size() != static_cast<size_t>(data.rows()) * data.dim) {
    return absl::InvalidArgumentError(absl::StrCat(name, ": ", data.x.size(), " features are not ", data.rows(),
                                                   " rows of dim ", data.dim));
  }
  for (int64_t i = 0; i < data.rows(); ++i) {
    if (data.y[i] < 0 || data.y[i] >= num_classes) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " row ", i, ": class ", data.y[i], " outside [0, ", num_classes, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

SoftmaxRegression::SoftmaxRegression(int num_classes, int dim)
    : num_classes_(num_classes), dim_(dim), parameters_(static_cast<size_t>(num_classes) * (dim + 1), 0.0) {}

std::vector<int32_t> SoftmaxRegression::Predict(std::span<const float> x) const {
  const int64_t n = x.size() / dim_;
  std::vector<int32_t> out(n);
  const double* bias = parameters_.data() + static_cast<size_t>(num_classes_) * dim_;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = x.data() + i * dim_;
    double best = -INFINITY;
    for (int c = 0; c < num_classes_; ++c) {
      const double* w = parameters_.data() + static_cast<size_t>(c) * dim_;
      double z = bias[c];
      for (int j = 0; j < dim_; ++j) z += w[j] * row[j];
      if (z > best) best = z, out[i] = c;
    }
  }
  return out;
}

double SoftmaxRegression::Accuracy(const LabelledFeatures& data) const {
  if (data.rows() == 0) return 0;
  const std::vector<int32_t> predicted = Predict(data.x);
  int64_t right = 0;
  for (int64_t i = 0; i < data.rows(); ++i) right += predicted[i] == data.y[i];
  return static_cast<double>(right) / data.rows();
}

absl::StatusOr<SoftmaxRegression> FitSoftmaxRegression(const LabelledFeatures& train, const LabelledFeatures* dev,
                                                       int num_classes, const SoftmaxRegressionOptions& options) {
  if (num_classes < 2) return absl::InvalidArgumentError(absl::StrCat("num_classes ", num_classes, " < 2"));
  if (train.rows() == 0) return absl::InvalidArgumentError("no training rows");
  if (absl::Status s = CheckData(train, num_classes, "train"); !s.ok()) return s;
  if (dev != nullptr) {
    if (dev->dim != train.dim) {
      return absl::InvalidArgumentError(absl::StrCat("dev dim ", dev->dim, " != train dim ", train.dim));
    }
    if (absl::Status s = CheckData(*dev, num_classes, "dev"); !s.ok()) return s;
  }
  SoftmaxRegression model(num_classes, train.dim);
  Objective objective(train, num_classes, options.l2);
  std::vector<double>& theta = model.parameters_;
  std::vector<double> gradient, next_gradient, next(theta.size());
  double loss = objective.Evaluate(theta, gradient);
  std::deque<Correction> memory;
  SoftmaxRegression best = model;
  double best_accuracy = dev != nullptr ? model.Accuracy(*dev) : 0;
  int since_best = 0;
  for (int iteration = 1; iteration <= options.max_iterations; ++iteration) {
    std::vector<double> direction = Direction(memory, gradient);
    double slope = Dot(gradient, direction);
    if (slope >= 0) {  // not a descent direction (numerical trouble): restart from -g
      memory.clear();
      direction = Direction(memory, gradient);
      slope = Dot(gradient, direction);
    }
    // Backtracking (Armijo) line search; the first step of plain gradient descent is scaled
    // to a unit move, later L-BFGS steps start at 1.
    double step = memory.empty() ? 1.0 / std::sqrt(std::max(Dot(gradient, gradient), 1e-300)) : 1.0;
    double next_loss = 0;
    bool accepted = false;
    for (int halving = 0; halving < 40 && !accepted; ++halving, step *= 0.5) {
      for (size_t i = 0; i < theta.size(); ++i) next[i] = theta[i] + step * direction[i];
      next_loss = objective.Evaluate(next, next_gradient);
      accepted = next_loss <= loss + 1e-4 * step * slope;
      if (accepted) break;
    }
    if (!accepted) break;  // no decrease possible at float precision: converged
    Correction correction{.s = std::vector<double>(theta.size()), .y = std::vector<double>(theta.size()), .rho = 0};
    for (size_t i = 0; i < theta.size(); ++i) {
      correction.s[i] = next[i] - theta[i];
      correction.y[i] = next_gradient[i] - gradient[i];
    }
    const double sy = Dot(correction.s, correction.y);
    if (sy > 1e-12) {  // keep the curvature pair only when it is positive (always, if convex and exact)
      correction.rho = 1 / sy;
      memory.push_back(std::move(correction));
      if (static_cast<int>(memory.size()) > options.memory) memory.pop_front();
    }
    theta.swap(next);
    gradient.swap(next_gradient);
    loss = next_loss;
    model.iterations_ = iteration;
    if (dev != nullptr) {
      const double accuracy = model.Accuracy(*dev);
      if (accuracy > best_accuracy) {
        best_accuracy = accuracy, best = model, since_best = 0;
      } else if (++since_best >= options.patience) {
        break;
      }
    }
    double largest = 0;
    for (double g : gradient) largest = std::max(largest, std::abs(g));
    if (largest < options.gradient_tolerance) break;
  }
  if (dev == nullptr) return model;
  best.iterations_ = model.iterations_;
  return best;
}

void StandardizeColumns(LabelledFeatures& fit, std::span<LabelledFeatures* const> others) {
  const int64_t n = fit.rows(), d = fit.dim;
  std::vector<double> mean(d, 0), variance(d, 0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) mean[j] += fit.x[i * d + j];
  for (double& m : mean) m /= std::max<int64_t>(n, 1);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) variance[j] += std::pow(fit.x[i * d + j] - mean[j], 2);
  std::vector<double> scale(d);
  for (int64_t j = 0; j < d; ++j) {
    const double sd = std::sqrt(variance[j] / std::max<int64_t>(n, 1));
    scale[j] = sd > 1e-12 ? 1 / sd : 1;
  }
  auto apply = [&](LabelledFeatures& data) {
    for (int64_t i = 0; i < data.rows(); ++i)
      for (int64_t j = 0; j < d; ++j) data.x[i * d + j] = static_cast<float>((data.x[i * d + j] - mean[j]) * scale[j]);
  };
  apply(fit);
  for (LabelledFeatures* other : others) apply(*other);
}

}  // namespace cloze::probe
