// The per-element math of the layer-norm row kernels (layernorm.cu, residual_layernorm.cu),
// shared with their host emulation (testing/residual_layernorm_emulation.h), so the CPU test
// that runs the emulation checks the very expressions the GPU evaluates.
//
// Every product goes through mul(), which on the device is __fmul_rn/__dmul_rn: nvcc may not
// contract it with a neighbouring add into an FMA. So the device rounds each operation once,
// as the host does (g++ here targets x86-64 without FMA, in ISO C++ mode), and the two
// kernels that use these functions round identically: the fused op equals dropout_forward +
// residual_forward + layernorm_forward bit for bit. The association of every expression is
// the CPU reference's (kernels/cpu/layernorm.cc), written out in the comments.
//
// Plain C++ that nvcc also compiles for the device (CLOZE_HOST_DEVICE): no CUDA headers, only
// <math.h>'s sqrtf/sqrt, which both sides round correctly (nvcc's default -prec-sqrt=true).
#ifndef CLOZE_KERNELS_CUDA_LAYERNORM_ROWS_H_
#define CLOZE_KERNELS_CUDA_LAYERNORM_ROWS_H_

#include <math.h>

#include <cstdint>

#include "kernels/cpu/dropout.h"
#include "kernels/philox.h"

namespace cloze::cuda::layernorm_rows {

// Threads per row block, fixed because the block's reduction tree (and so the rounding of
// every row sum) depends on it: the emulation replays exactly this many partial sums.
constexpr int kRowThreads = 256;

CLOZE_HOST_DEVICE float mul(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}

CLOZE_HOST_DEVICE double mul(double a, double b) {
#if defined(__CUDA_ARCH__)
  return __dmul_rn(a, b);
#else
  return a * b;
#endif
}

CLOZE_HOST_DEVICE float sqrt_of(float x) { return sqrtf(x); }
CLOZE_HOST_DEVICE double sqrt_of(double x) { return sqrt(x); }

// ---- Forward. Row sums are taken by the caller: Σ x, then Σ centered_square.

// total / c, for the mean of x and the backward's means of g and g·x̂.
template <typename T>
CLOZE_HOST_DEVICE T mean_of(T total, int64_t c) {
  return total / T(c);
}

// (x − mean)·(x − mean).
template <typename T>
CLOZE_HOST_DEVICE T centered_square(T x, T mean) {
  const T d = x - mean;
  return mul(d, d);
}

// 1 / sqrt(Σ (x − mean)² / c + eps): a division and a correctly rounded root, not rsqrt.
template <typename T>
CLOZE_HOST_DEVICE T rstd_of(T squares, int64_t c, T eps) {
  return T(1) / sqrt_of(squares / T(c) + eps);
}

// ((x − mean)·rstd)·weight + bias.
template <typename T>
CLOZE_HOST_DEVICE T normalized(T x, T mean, T rstd, T weight, T bias) {
  return mul(mul(x - mean, rstd), weight) + bias;
}

// ---- Backward, with g = dout·weight and x̂ = (x − mean)·rstd.

// g.
template <typename T>
CLOZE_HOST_DEVICE T weighted_grad(T dout, T weight) {
  return mul(dout, weight);
}

// (g·(x − mean))·rstd, the term of Σ g·x̂.
template <typename T>
CLOZE_HOST_DEVICE T weighted_grad_xhat(T g, T x, T mean, T rstd) {
  return mul(mul(g, x - mean), rstd);
}

// rstd·((g − mean(g)) − x̂·mean(g·x̂)): the gradient of the layer norm's input.
template <typename T>
CLOZE_HOST_DEVICE T input_grad(T g, T x, T mean, T rstd, T g_mean, T g_xhat_mean) {
  const T xhat = mul(x - mean, rstd);
  return mul(rstd, (g - g_mean) - mul(xhat, g_xhat_mean));
}

// ---- Dropout on the sublayer's output, the CPU's mask exactly (cpu::dropout_keeps).

// A DropoutSpec in the form device code can read (DropoutSpec::active() is host-only):
// element `index` of the flat (n, c) tensor is element first_index + index of the site's mask.
struct RowDropout {
  bool active;
  float p;
  float scale;  // 1 / (1 − p), formed on the host in float as cpu::dropout_scale does
  uint64_t seed, stream, first_index;

  CLOZE_HOST_DEVICE bool keeps(uint64_t index) const {
    if (!active) return true;
    return uniform_from_word(philox_word(seed, stream, first_index + index)) >= p;
  }
};

inline RowDropout row_dropout(const cpu::DropoutSpec& spec) {
  const bool active = spec.active();
  return {active, spec.p, active ? 1.0f / (1.0f - spec.p) : 1.0f,
          spec.seed, spec.stream, spec.first_index};
}

// dropout(x) + residual, as dropout_forward then residual_forward: a dropped element is
// exactly 0 + residual, a kept one x·scale + residual; without dropout, x + residual.
template <typename T>
CLOZE_HOST_DEVICE T dropped_plus_residual(T x, T residual, const RowDropout& dropout, bool keep) {
  const T dropped = !dropout.active ? x : keep ? mul(x, T(dropout.scale)) : T(0);
  return dropped + residual;
}

// The gradient reaching the dropout's input: d_sum·scale where kept, 0 where dropped,
// d_sum itself without dropout.
template <typename T>
CLOZE_HOST_DEVICE T dropout_grad(T d_sum, const RowDropout& dropout, bool keep) {
  return !dropout.active ? d_sum : keep ? mul(d_sum, T(dropout.scale)) : T(0);
}

}  // namespace cloze::cuda::layernorm_rows

#endif  // CLOZE_KERNELS_CUDA_LAYERNORM_ROWS_H_
