// Layer normalisation over the last axis, as nn.LayerNorm (biased variance).
//
// Shapes: inp, out (n, c); weight, bias (c); mean, rstd (n), written by forward and
// read by backward (rstd = 1 / sqrt(var + eps)).
// Forward overwrites out, mean, rstd. Backward ADDS into dinp (n, c), dweight and dbias (c).
#ifndef CLOZE_KERNELS_CPU_LAYERNORM_H_
#define CLOZE_KERNELS_CPU_LAYERNORM_H_

#include <cmath>
#include <cstdint>

namespace cloze::cpu {

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int64_t n, int64_t c, T eps);

template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int64_t n, int64_t c);

// The pieces both ops are made of, for kernels that fuse other element-wise work into the
// same passes (fused.h).

// One row: y (c) = layernorm(x (c)), and its mean and rstd.
template <typename T>
inline void layernorm_forward_row(T* y, T* mean, T* rstd, const T* x, const T* weight, const T* bias, int64_t c,
                                  T eps) {
  T sum = T(0);
  for (int64_t i = 0; i < c; ++i) sum += x[i];
  const T m = sum / T(c);
  T squares = T(0);
  for (int64_t i = 0; i < c; ++i) squares += (x[i] - m) * (x[i] - m);
  const T s = T(1) / std::sqrt(squares / T(c) + eps);
  for (int64_t i = 0; i < c; ++i) y[i] = (x[i] - m) * s * weight[i] + bias[i];
  *mean = m;
  *rstd = s;
}

// One row of the input gradient: calls emit(i, dx_i) for each element i of the row.
template <typename T, typename Emit>
inline void layernorm_backward_row(const T* x, const T* dy, const T* weight, T m, T s, int64_t c, Emit emit) {
  // With x̂ = (x - mean)·rstd and g = dout·weight: dx = rstd · (g - mean(g) - x̂ · mean(g·x̂)).
  T g_sum = T(0);
  T g_xhat_sum = T(0);
  for (int64_t i = 0; i < c; ++i) {
    const T g = dy[i] * weight[i];
    g_sum += g;
    g_xhat_sum += g * (x[i] - m) * s;
  }
  const T g_mean = g_sum / T(c);
  const T g_xhat_mean = g_xhat_sum / T(c);
  for (int64_t i = 0; i < c; ++i) {
    const T xhat = (x[i] - m) * s;
    emit(i, s * (dy[i] * weight[i] - g_mean - xhat * g_xhat_mean));
  }
}

// dweight, dbias (c) += the column sums of the backward (over all n rows).
template <typename T>
void layernorm_parameter_gradients(T* dweight, T* dbias, const T* dout, const T* inp, const T* mean, const T* rstd,
                                   int64_t n, int64_t c);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_LAYERNORM_H_
