#include "kernels/cpu/activations.h"

#include <cmath>
#include <type_traits>

#include "kernels/cpu/fast_math.h"

namespace cloze::cpu {
namespace {

// √(2/π) and the cubic coefficient of the tanh approximation (Hendrycks & Gimpel).
constexpr double kSqrt2OverPi = 0.7978845608028654;
constexpr double kGeluCubic = 0.044715;
constexpr double kInvSqrt2 = 0.7071067811865476;
constexpr double kInvSqrt2Pi = 0.3989422804014327;

}  // namespace

// The float paths use fast_math.h so the loops vectorise; double keeps the library
// functions and is the reference.

template <typename T>
void gelu_erf_forward(T* out, const T* inp, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float x = inp[i];
      out[i] = 0.5f * x * fast_erfcf(x * -float(kInvSqrt2));
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
      const float x = inp[i];
      const float cdf = 0.5f * fast_erfcf(x * -float(kInvSqrt2));
      const float pdf = float(kInvSqrt2Pi) * fast_expf(-0.5f * x * x);
      dinp[i] += dout[i] * (cdf + x * pdf);
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

// With u = √(2/π)(x + 0.044715x³): 0.5·x·(1 + tanh u) = x·σ(2u), and the float path
// computes σ(2u) = 1 / (1 + e^(−2u)) with one exponential.
template <typename T>
void gelu_tanh_forward(T* out, const T* inp, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float x = inp[i];
      const float u = float(kSqrt2OverPi) * (x + float(kGeluCubic) * x * x * x);
      out[i] = x / (1.0f + fast_expf(-2.0f * u));
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

// d/dx [0.5·x·(1 + tanh u)] = 0.5(1 + tanh u) + 0.5·x·(1 − tanh²u)·u', which with
// s = σ(2u) is s + 2·x·s·(1 − s)·u'.
template <typename T>
void gelu_tanh_backward(T* dinp, const T* inp, const T* dout, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float x = inp[i];
      const float u = float(kSqrt2OverPi) * (x + float(kGeluCubic) * x * x * x);
      const float du = float(kSqrt2OverPi) * (1.0f + float(3 * kGeluCubic) * x * x);
      const float e = fast_expf(-2.0f * u);
      const float s = 1.0f / (1.0f + e);
      // 1 − s as e·s: exact where s rounds to 1 and 1 − s would cancel.
      dinp[i] += dout[i] * (s + 2.0f * x * s * (e * s) * du);
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
