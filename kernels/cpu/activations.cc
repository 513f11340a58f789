#include "kernels/cpu/activations.h"

#include <cmath>
#include <type_traits>

#include "kernels/cpu/activation_formulas.h"

namespace cloze::cpu {

using formulas::kGeluCubic;
using formulas::kInvSqrt2;
using formulas::kInvSqrt2Pi;
using formulas::kSqrt2OverPi;

// The float paths are activation_formulas.h's (on fast_math.h, so the loops vectorise);
// double keeps the library functions and is the reference.

template <typename T>
void gelu_erf_forward(T* out, const T* inp, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      out[i] = formulas::GeluErf(inp[i]);
    }
  } else {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T x = inp[i];
      out[i] = T(0.5) * x * (T(1) + std::erf(x * T(kInvSqrt2)));
    }
  }
}

template <typename T>
void gelu_erf_backward(T* dinp, const T* inp, const T* dout, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      dinp[i] += dout[i] * formulas::GeluErfSlope(inp[i]);
    }
  } else {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T x = inp[i];
      const T cdf = T(0.5) * (T(1) + std::erf(x * T(kInvSqrt2)));
      const T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
      dinp[i] += dout[i] * (cdf + x * pdf);
    }
  }
}

template <typename T>
void gelu_tanh_forward(T* out, const T* inp, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      out[i] = formulas::GeluTanh(inp[i]);
    }
  } else {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T x = inp[i];
      const T inner = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
      out[i] = T(0.5) * x * (T(1) + std::tanh(inner));
    }
  }
}

template <typename T>
void gelu_tanh_backward(T* dinp, const T* inp, const T* dout, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      dinp[i] += dout[i] * formulas::GeluTanhSlope(inp[i]);
    }
  } else {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const T x = inp[i];
      const T inner = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
      const T th = std::tanh(inner);
      const T sech2 = T(1) - th * th;
      const T dinner = T(kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * x * x);
      dinp[i] += dout[i] * (T(0.5) * (T(1) + th) + T(0.5) * x * sech2 * dinner);
    }
  }
}

template <typename T>
void relu_forward(T* out, const T* inp, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = inp[i] > T(0) ? inp[i] : T(0);
}

template <typename T>
void relu_backward(T* dinp, const T* inp, const T* dout, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) dinp[i] += inp[i] > T(0) ? dout[i] : T(0);
}

template <typename T>
void tanh_forward(T* out, const T* inp, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(inp[i]);
}

template <typename T>
void tanh_backward(T* dinp, const T* out, const T* dout, int64_t n) {
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) dinp[i] += dout[i] * (T(1) - out[i] * out[i]);
}

template <typename T>
void activation_forward(Activation act, T* out, const T* inp, int64_t n) {
  switch (act) {
    case Activation::kGeluErf: return gelu_erf_forward(out, inp, n);
    case Activation::kGeluTanh: return gelu_tanh_forward(out, inp, n);
    case Activation::kRelu: return relu_forward(out, inp, n);
  }
}

template <typename T>
void activation_backward(Activation act, T* dinp, const T* inp, const T* dout, int64_t n) {
  switch (act) {
    case Activation::kGeluErf: return gelu_erf_backward(dinp, inp, dout, n);
    case Activation::kGeluTanh: return gelu_tanh_backward(dinp, inp, dout, n);
    case Activation::kRelu: return relu_backward(dinp, inp, dout, n);
  }
}

#define CLOZE_INSTANTIATE(T)                                                          \
  template void gelu_erf_forward<T>(T*, const T*, int64_t);                          \
  template void gelu_erf_backward<T>(T*, const T*, const T*, int64_t);               \
  template void gelu_tanh_forward<T>(T*, const T*, int64_t);                         \
  template void gelu_tanh_backward<T>(T*, const T*, const T*, int64_t);              \
  template void relu_forward<T>(T*, const T*, int64_t);                              \
  template void relu_backward<T>(T*, const T*, const T*, int64_t);                   \
  template void tanh_forward<T>(T*, const T*, int64_t);                              \
  template void tanh_backward<T>(T*, const T*, const T*, int64_t);                   \
  template void activation_forward<T>(Activation, T*, const T*, int64_t);            \
  template void activation_backward<T>(Activation, T*, const T*, const T*, int64_t);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
