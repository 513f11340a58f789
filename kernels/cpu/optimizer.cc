#include "kernels/cpu/optimizer.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace cloze {
namespace {

// Elements per block. Fixed (never derived from the thread count): LAMB's norms sum
// block partials in block order, so the result does not depend on how blocks are shared.
constexpr int64_t kBlock = 1 << 15;

absl::Status Invalid(const char* field, double value, const char* requirement) {
  return absl::InvalidArgumentError(
      absl::StrCat("OptimizerConfig.", field, ": ", value, " is not ", requirement));
}

bool InUnitInterval(float x) { return std::isfinite(x) && x >= 0 && x < 1; }

[[noreturn]] void Die(const char* message, long long a, long long b) {
  std::fprintf(stderr, "Optimizer: %s (%lld vs %lld)\n", message, a, b);
  std::abort();
}

// ALBERT's per-element LAMB direction, m / (√v + ε) (+ weight_decay·p). Pass 1 (norms)
// and pass 2 (apply) both call it, so they see the same value. kDecayed is a template
// argument so that the loops below have no branch and vectorise (each lane does the
// same IEEE operations as scalar code: the bits do not change).
template <bool kDecayed>
inline float LambDirection(float m, float v, float p, float epsilon, float weight_decay) {
  float u = m / (std::sqrt(v) + epsilon);
  if (kDecayed) u += weight_decay * p;
  return u;
}

struct LambConstants {
  float beta1, beta2, one_minus_beta1, one_minus_beta2, epsilon, weight_decay;
};

// Pass 1's element-wise part over one block of n elements: the moments from g × scale,
// and the direction into u (the block's norms are then summed from p and u in order).
template <bool kDecayed>
void LambMomentsAndDirection(int64_t n, const float* __restrict g, float gradient_scale, float* __restrict m,
                             float* __restrict v, const float* __restrict p, float* __restrict u,
                             const LambConstants& c) {
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] * gradient_scale;
    const float mi = c.beta1 * m[i] + c.one_minus_beta1 * gi;
    const float vi = c.beta2 * v[i] + c.one_minus_beta2 * (gi * gi);
    m[i] = mi;
    v[i] = vi;
    u[i] = LambDirection<kDecayed>(mi, vi, p[i], c.epsilon, c.weight_decay);
  }
}

// Pass 2 over one block: p ← p − step_size·u, u recomputed from the new moments.
template <bool kDecayed>
void LambApply(int64_t n, float* __restrict p, const float* __restrict m, const float* __restrict v,
               float step_size, const LambConstants& c) {
  for (int64_t i = 0; i < n; ++i) p[i] -= step_size * LambDirection<kDecayed>(m[i], v[i], p[i], c.epsilon, c.weight_decay);
}

}  // namespace

absl::Status ValidateOptimizerConfig(const OptimizerConfig& config) {
  if (!OptimizerConfig::Kind_IsValid(config.kind())) {
    return absl::InvalidArgumentError(
        absl::StrCat("OptimizerConfig.kind: ", config.kind(), " is not LAMB or ADAMW"));
  }
  if (!std::isfinite(config.learning_rate()) || config.learning_rate() <= 0) {
    return Invalid("learning_rate", config.learning_rate(), "> 0");
  }
  if (!InUnitInterval(config.beta1())) return Invalid("beta1", config.beta1(), "in [0, 1)");
  if (!InUnitInterval(config.beta2())) return Invalid("beta2", config.beta2(), "in [0, 1)");
  if (!std::isfinite(config.epsilon()) || config.epsilon() <= 0) {
    return Invalid("epsilon", config.epsilon(), "> 0");
  }
  if (!std::isfinite(config.weight_decay()) || config.weight_decay() < 0) {
    return Invalid("weight_decay", config.weight_decay(), ">= 0");
  }
  if (!std::isfinite(config.max_grad_norm()) || config.max_grad_norm() < 0) {
    return Invalid("max_grad_norm", config.max_grad_norm(), ">= 0");
  }
  return absl::OkStatus();
}

Optimizer::Optimizer(const OptimizerConfig& config, const ParameterLayout& layout)
    : config_(config), total_size_(layout.total_size) {
  if (const absl::Status status = ValidateOptimizerConfig(config); !status.ok()) {
    std::fprintf(stderr, "Optimizer: %s\n", status.ToString().c_str());
    std::abort();
  }
  int64_t next = 0;
  for (const NamedTensor& t : layout.tensors) {
    if (t.offset != next || t.size < 0) Die("tensors do not tile the buffer", t.offset, next);
    Tensor tensor{t.weight_decay, static_cast<int>(blocks_.size()), 0};
    for (int64_t begin = t.offset; begin < t.offset + t.size; begin += kBlock) {
      blocks_.push_back({begin, std::min(begin + kBlock, t.offset + t.size),
                         static_cast<int>(tensors_.size())});
      ++tensor.blocks;
    }
    tensors_.push_back(tensor);
    next = t.offset + t.size;
  }
  if (next != total_size_) Die("tensors do not cover total_size", next, total_size_);
  exp_avg_.assign(total_size_, 0.0f);
  exp_avg_sq_.assign(total_size_, 0.0f);
  if (config_.kind() == OptimizerConfig::LAMB) {
    param_squares_.assign(blocks_.size(), 0.0);
    update_squares_.assign(blocks_.size(), 0.0);
  }
}

void Optimizer::Step(std::span<float> params, std::span<const float> grads, float learning_rate) {
  StepTensors(params, grads, 1.0f, learning_rate, 0, tensor_count());
  FinishStep();
}

void Optimizer::StepTensors(std::span<float> params, std::span<const float> grads, float gradient_scale,
                            float learning_rate, int first_tensor, int end_tensor) {
  const auto size = static_cast<long long>(total_size_);
  if (static_cast<long long>(params.size()) != size) Die("params size", params.size(), size);
  if (static_cast<long long>(grads.size()) != size) Die("grads size", grads.size(), size);
  if (first_tensor < 0 || first_tensor > end_tensor) Die("first tensor", first_tensor, end_tensor);
  if (end_tensor > tensor_count()) Die("end tensor", end_tensor, tensor_count());
  // First blocks are non-decreasing (an empty tensor has none), so this is the tensors' blocks.
  const int64_t first_block = first_tensor < tensor_count() ? tensors_[first_tensor].first_block
                                                            : static_cast<int64_t>(blocks_.size());
  const int64_t end_block = end_tensor < tensor_count() ? tensors_[end_tensor].first_block
                                                        : static_cast<int64_t>(blocks_.size());
  if (config_.kind() == OptimizerConfig::LAMB) {
    LambStep(params.data(), grads.data(), gradient_scale, learning_rate, first_tensor, end_tensor, first_block,
             end_block);
  } else {
    AdamWStep(params.data(), grads.data(), gradient_scale, learning_rate, first_block, end_block);
  }
}

void Optimizer::LambStep(float* p, const float* g, float gradient_scale, float learning_rate,
                         int first_tensor, int end_tensor, int64_t first_block, int64_t end_block) {
  // As TF: 1 − β is formed in double (Python) and used as a float32 constant.
  const LambConstants c{config_.beta1(),
                        config_.beta2(),
                        static_cast<float>(1.0 - config_.beta1()),
                        static_cast<float>(1.0 - config_.beta2()),
                        config_.epsilon(),
                        config_.weight_decay()};
  float* m = exp_avg_.data();
  float* v = exp_avg_sq_.data();

  // Pass 1: the moments, and per block Σp² and Σu² (u: the direction before the ratio),
  // each summed in double in element order.
#pragma omp parallel
  {
    std::vector<float> u(kBlock);
#pragma omp for schedule(static)
    for (int64_t b = first_block; b < end_block; ++b) {
      const Block block = blocks_[b];
      const int64_t n = block.end - block.begin;
      const int64_t at = block.begin;
      if (tensors_[block.tensor].decayed) {
        LambMomentsAndDirection<true>(n, g + at, gradient_scale, m + at, v + at, p + at, u.data(), c);
      } else {
        LambMomentsAndDirection<false>(n, g + at, gradient_scale, m + at, v + at, p + at, u.data(), c);
      }
      double param_sum = 0, update_sum = 0;
      for (int64_t i = 0; i < n; ++i) {
        param_sum += static_cast<double>(p[at + i]) * p[at + i];
        update_sum += static_cast<double>(u[i]) * u[i];
      }
      param_squares_[b] = param_sum;
      update_squares_[b] = update_sum;
    }
  }

  // Per tensor, the step ratio·lr, the trust ratio from block sums taken in block order.
  std::vector<float> step_size(tensors_.size());
  for (int t = first_tensor; t < end_tensor; ++t) {
    const Tensor& tensor = tensors_[t];
    double ratio = 1.0;
    if (tensor.decayed) {
      double param_sum = 0, update_sum = 0;
      for (int b = tensor.first_block; b < tensor.first_block + tensor.blocks; ++b) {
        param_sum += param_squares_[b];
        update_sum += update_squares_[b];
      }
      const double w_norm = std::sqrt(param_sum), u_norm = std::sqrt(update_sum);
      if (w_norm > 0 && u_norm > 0) ratio = w_norm / u_norm;
    }
    step_size[t] = static_cast<float>(ratio * learning_rate);
  }

  // Pass 2: apply (the parameters are still the ones pass 1 read).
#pragma omp parallel for schedule(static)
  for (int64_t b = first_block; b < end_block; ++b) {
    const Block block = blocks_[b];
    const int64_t n = block.end - block.begin;
    const int64_t at = block.begin;
    const float scale = step_size[block.tensor];
    if (tensors_[block.tensor].decayed) {
      LambApply<true>(n, p + at, m + at, v + at, scale, c);
    } else {
      LambApply<false>(n, p + at, m + at, v + at, scale, c);
    }
  }
}

void Optimizer::AdamWStep(float* p, const float* g, float gradient_scale, float learning_rate,
                          int64_t first_block, int64_t end_block) {
  const float beta1 = config_.beta1(), beta2 = config_.beta2();
  const float one_minus_beta1 = static_cast<float>(1.0 - beta1);
  const float one_minus_beta2 = static_cast<float>(1.0 - beta2);
  const float epsilon = config_.epsilon();
  // Scalars as torch forms them: in double, then used as float32 by the tensor ops.
  const double t = static_cast<double>(step_count_ + 1);
  const double lr = learning_rate;
  const float step_size = static_cast<float>(lr / (1.0 - std::pow(double{beta1}, t)));
  const float correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(double{beta2}, t)));
  const float decay = static_cast<float>(1.0 - lr * config_.weight_decay());
  float* m = exp_avg_.data();
  float* v = exp_avg_sq_.data();

#pragma omp parallel for schedule(static)
  for (int64_t b = first_block; b < end_block; ++b) {
    const Block block = blocks_[b];
    const float block_decay = tensors_[block.tensor].decayed ? decay : 1.0f;
    for (int64_t i = block.begin; i < block.end; ++i) {
      const float gi = g[i] * gradient_scale;
      m[i] = beta1 * m[i] + one_minus_beta1 * gi;
      v[i] = beta2 * v[i] + one_minus_beta2 * (gi * gi);
      const float denom = std::sqrt(v[i]) / correction2_sqrt + epsilon;
      p[i] = p[i] * block_decay - step_size * m[i] / denom;
    }
  }
}

absl::Status Optimizer::Restore(std::span<const float> exp_avg, std::span<const float> exp_avg_sq,
                                int64_t step_count) {
  if (static_cast<int64_t>(exp_avg.size()) != total_size_ ||
      static_cast<int64_t>(exp_avg_sq.size()) != total_size_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "optimizer state has ", exp_avg.size(), " and ", exp_avg_sq.size(),
        " moment values; the parameter layout has ", total_size_));
  }
  if (step_count < 0) {
    return absl::InvalidArgumentError(absl::StrCat("optimizer step count ", step_count, " < 0"));
  }
  std::copy(exp_avg.begin(), exp_avg.end(), exp_avg_.begin());
  std::copy(exp_avg_sq.begin(), exp_avg_sq.end(), exp_avg_sq_.begin());
  step_count_ = step_count;
  return absl::OkStatus();
}

}  // namespace cloze
