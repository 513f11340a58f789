#include "kernels/cpu/layernorm.h"

#include <cmath>

namespace cloze::cpu {

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int64_t n, int64_t c, T eps) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n; ++row) {
    layernorm_forward_row(out + row * c, mean + row, rstd + row, inp + row * c, weight, bias, c, eps);
  }
}

template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int64_t n, int64_t c) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n; ++row) {
    T* dx = dinp + row * c;
    layernorm_backward_row(inp + row * c, dout + row * c, weight, mean[row], rstd[row], c,
                           [dx](int64_t i, T d) { dx[i] += d; });
  }
  layernorm_parameter_gradients(dweight, dbias, dout, inp, mean, rstd, n, c);
}

template <typename T>
void layernorm_parameter_gradients(T* dweight, T* dbias, const T* dout, const T* inp, const T* mean, const T* rstd,
                                   int64_t n, int64_t c) {
  // Each thread owns a block of columns and sums rows in order (deterministic for any
  // thread count).
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
                                      const T*, int64_t, int64_t);                              \
  template void layernorm_parameter_gradients<T>(T*, T*, const T*, const T*, const T*, const T*,  \
                                                 int64_t, int64_t);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
