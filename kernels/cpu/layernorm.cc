#include "kernels/cpu/layernorm.h"

#include <cmath>

namespace cloze::cpu {

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int64_t n, int64_t c, T eps) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n; ++row) {
    const T* x = inp + row * c;
    T sum = T(0);
    for (int64_t i = 0; i < c; ++i) sum += x[i];
    const T m = sum / T(c);
    T squares = T(0);
    for (int64_t i = 0; i < c; ++i) squares += (x[i] - m) * (x[i] - m);
    const T s = T(1) / std::sqrt(squares / T(c) + eps);
    T* y = out + row * c;
    for (int64_t i = 0; i < c; ++i) y[i] = (x[i] - m) * s * weight[i] + bias[i];
    mean[row] = m;
    rstd[row] = s;
  }
}

template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int64_t n, int64_t c) {
  // dinp: with x̂ = (x - mean)·rstd and g = dout·weight,
  // dx = rstd · (g - mean(g) - x̂ · mean(g·x̂)). Rows are independent.
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n; ++row) {
    const T* x = inp + row * c;
    const T* dy = dout + row * c;
    const T m = mean[row];
    const T s = rstd[row];
    T g_sum = T(0);
    T g_xhat_sum = T(0);
    for (int64_t i = 0; i < c; ++i) {
      const T g = dy[i] * weight[i];
      g_sum += g;
      g_xhat_sum += g * (x[i] - m) * s;
    }
    const T g_mean = g_sum / T(c);
    const T g_xhat_mean = g_xhat_sum / T(c);
    T* dx = dinp + row * c;
    for (int64_t i = 0; i < c; ++i) {
      const T xhat = (x[i] - m) * s;
      dx[i] += s * (dy[i] * weight[i] - g_mean - xhat * g_xhat_mean);
    }
  }
  // dweight, dbias: column sums over rows. Each thread owns a block of columns and sums
  // rows in order (deterministic for any thread count).
  constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < c; begin += kBlock) {
    const int64_t width = c - begin < kBlock ? c - begin : kBlock;
    T dw[kBlock] = {};
    T db[kBlock] = {};
    for (int64_t row = 0; row < n; ++row) {
      const T m = mean[row];
      const T s = rstd[row];
      const T* x = inp + row * c + begin;
      const T* dy = dout + row * c + begin;
      for (int64_t i = 0; i < width; ++i) {
        dw[i] += dy[i] * (x[i] - m) * s;
        db[i] += dy[i];
      }
    }
    for (int64_t i = 0; i < width; ++i) {
      dweight[begin + i] += dw[i];
      dbias[begin + i] += db[i];
    }
  }
}

#define CLOZE_INSTANTIATE(T)                                                                   \
  template void layernorm_forward<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, \
                                     T);                                                       \
  template void layernorm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*,      \
                                      const T*, int64_t, int64_t);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
