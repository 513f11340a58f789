#include "kernels/cpu/matmul.h"

#include "kernels/cpu/bf16_gemm.h"

namespace cloze::cpu {

template <typename T>
void matmul_forward_reference(T* out, const T* inp, const T* weight, const T* bias, int64_t n,
                              int64_t c, int64_t oc) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n; ++row) {
    const T* x = inp + row * c;
    for (int64_t o = 0; o < oc; ++o) {
      const T* w = weight + o * c;
      T sum = bias != nullptr ? bias[o] : T(0);
      for (int64_t i = 0; i < c; ++i) sum += x[i] * w[i];
      out[row * oc + o] = sum;
    }
  }
}

template <typename T>
void matmul_backward_reference(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                               const T* weight, int64_t n, int64_t c, int64_t oc) {
  if (dinp != nullptr) {
#pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < n; ++row) {
      for (int64_t o = 0; o < oc; ++o) {
        const T g = dout[row * oc + o];
        for (int64_t i = 0; i < c; ++i) dinp[row * c + i] += g * weight[o * c + i];
      }
    }
  }
  // Each thread owns whole rows of dweight, so no two threads write one element.
#pragma omp parallel for schedule(static)
  for (int64_t o = 0; o < oc; ++o) {
    for (int64_t row = 0; row < n; ++row) {
      const T g = dout[row * oc + o];
      if (dweight != nullptr) {
        for (int64_t i = 0; i < c; ++i) dweight[o * c + i] += g * inp[row * c + i];
      }
      if (dbias != nullptr) dbias[o] += g;
    }
  }
}

template <typename T>
void bias_forward(T* out, const T* bias, int64_t n, int64_t c) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < n; ++row) {
    for (int64_t i = 0; i < c; ++i) out[row * c + i] += bias[i];
  }
}

template <typename T>
void bias_backward(T* dbias, const T* dout, int64_t n, int64_t c) {
  // Each thread owns a block of columns and sums rows in order, so the result does not
  // depend on the thread count; blocks keep the row reads contiguous.
  constexpr int64_t kBlock = 64;
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < c; begin += kBlock) {
    const int64_t width = c - begin < kBlock ? c - begin : kBlock;
    T sums[kBlock] = {};
    for (int64_t row = 0; row < n; ++row) {
      const T* g = dout + row * c + begin;
      for (int64_t i = 0; i < width; ++i) sums[i] += g[i];
    }
    for (int64_t i = 0; i < width; ++i) dbias[begin + i] += sums[i];
  }
}

namespace {

// The products through the packed bf16 weights where they apply (float at kBf16 with a
// cache); false where the caller's gemm must run instead.
bool PackedForward(float* out, const float* inp, const float* weight, const float* bias, int64_t n, int64_t c,
                   int64_t oc, Precision precision, Bf16Weights* packed) {
  if (precision != Precision::kBf16 || packed == nullptr) return false;
  packed->Forward(out, inp, weight, bias, n, c, oc);
  return true;
}
bool PackedForward(double*, const double*, const double*, const double*, int64_t, int64_t, int64_t, Precision,
                   Bf16Weights*) {
  return false;
}
bool PackedBackward(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                    const float* weight, int64_t n, int64_t c, int64_t oc, Precision precision, Bf16Weights* packed) {
  if (precision != Precision::kBf16 || packed == nullptr) return false;
  packed->Backward(dinp, dweight, dbias, dout, inp, weight, n, c, oc);
  return true;
}
bool PackedBackward(double*, double*, double*, const double*, const double*, const double*, int64_t, int64_t,
                    int64_t, Precision, Bf16Weights*) {
  return false;
}

}  // namespace

template <typename T>
void matmul_forward(T* out, const T* inp, const T* weight, const T* bias, int64_t n, int64_t c,
                    int64_t oc, Precision precision, Bf16Weights* packed) {
  if (PackedForward(out, inp, weight, bias, n, c, oc, precision, packed)) return;
  // out = inp (n, c) · weightᵀ (c, oc)
  gemm(precision, false, true, n, oc, c, T(1), inp, c, weight, c, T(0), out, oc);
  if (bias != nullptr) bias_forward(out, bias, n, oc);
}

template <typename T>
void matmul_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int64_t n, int64_t c, int64_t oc, Precision precision, Bf16Weights* packed) {
  if (PackedBackward(dinp, dweight, dbias, dout, inp, weight, n, c, oc, precision, packed)) return;
  // dinp (n, c) += dout (n, oc) · weight (oc, c)
  if (dinp != nullptr) gemm(precision, false, false, n, c, oc, T(1), dout, oc, weight, c, T(1), dinp, c);
  // dweight (oc, c) += doutᵀ (oc, n) · inp (n, c)
  if (dweight != nullptr) gemm(precision, true, false, oc, c, n, T(1), dout, oc, inp, c, T(1), dweight, c);
  if (dbias != nullptr) bias_backward(dbias, dout, n, oc);
}

#define CLOZE_INSTANTIATE(T)                                                                      \
  template void matmul_forward_reference<T>(T*, const T*, const T*, const T*, int64_t, int64_t,  \
                                            int64_t);                                            \
  template void matmul_backward_reference<T>(T*, T*, T*, const T*, const T*, const T*, int64_t,  \
                                             int64_t, int64_t);                                  \
  template void matmul_forward<T>(T*, const T*, const T*, const T*, int64_t, int64_t, int64_t,   \
                                  Precision, Bf16Weights*);                                      \
  template void matmul_backward<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t,   \
                                   int64_t, Precision, Bf16Weights*);                            \
  template void bias_forward<T>(T*, const T*, int64_t, int64_t);                                 \
  template void bias_backward<T>(T*, const T*, int64_t, int64_t);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
