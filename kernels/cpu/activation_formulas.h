// The float formulas of the feed-forward activations and their slopes, one element at a
// time, shared by the separate ops (activations.cc) and the fused ones (fused.cc) so both
// compute the same thing. Branch-free arithmetic on fast_math.h: loops around them vectorise.
#ifndef CLOZE_KERNELS_CPU_ACTIVATION_FORMULAS_H_
#define CLOZE_KERNELS_CPU_ACTIVATION_FORMULAS_H_

#include "kernels/cpu/activations.h"
#include "kernels/cpu/fast_math.h"

namespace cloze::cpu::formulas {

// √(2/π) and the cubic coefficient of the tanh approximation (Hendrycks & Gimpel).
inline constexpr double kSqrt2OverPi = 0.7978845608028654;
inline constexpr double kGeluCubic = 0.044715;
inline constexpr double kInvSqrt2 = 0.7071067811865476;
inline constexpr double kInvSqrt2Pi = 0.3989422804014327;

[[gnu::always_inline]] inline float GeluErf(float x) { return 0.5f * x * fast_erfcf(x * -float(kInvSqrt2)); }

[[gnu::always_inline]] inline float GeluErfSlope(float x) {
  const float cdf = 0.5f * fast_erfcf(x * -float(kInvSqrt2));
  const float pdf = float(kInvSqrt2Pi) * fast_expf(-0.5f * x * x);
  return cdf + x * pdf;
}

// With u = √(2/π)(x + 0.044715x³): 0.5·x·(1 + tanh u) = x·σ(2u), and σ(2u) = 1 / (1 + e^(−2u))
// takes one exponential.
[[gnu::always_inline]] inline float GeluTanh(float x) {
  const float u = float(kSqrt2OverPi) * (x + float(kGeluCubic) * x * x * x);
  return x / (1.0f + fast_expf(-2.0f * u));
}

// d/dx [0.5·x·(1 + tanh u)] = 0.5(1 + tanh u) + 0.5·x·(1 − tanh²u)·u', which with
// s = σ(2u) is s + 2·x·s·(1 − s)·u'.
[[gnu::always_inline]] inline float GeluTanhSlope(float x) {
  const float u = float(kSqrt2OverPi) * (x + float(kGeluCubic) * x * x * x);
  const float du = float(kSqrt2OverPi) * (1.0f + float(3 * kGeluCubic) * x * x);
  const float e = fast_expf(-2.0f * u);
  const float s = 1.0f / (1.0f + e);
  // 1 − s as e·s: exact where s rounds to 1 and 1 − s would cancel.
  return s + 2.0f * x * s * (e * s) * du;
}

[[gnu::always_inline]] inline float Relu(float x) { return x > 0.0f ? x : 0.0f; }
[[gnu::always_inline]] inline float ReluSlope(float x) { return x > 0.0f ? 1.0f : 0.0f; }

// The activation `A` and its slope, for kernels templated on it.
template <Activation A>
[[gnu::always_inline]] inline float Apply(float x) {
  if constexpr (A == Activation::kGeluErf) return GeluErf(x);
  if constexpr (A == Activation::kGeluTanh) return GeluTanh(x);
  if constexpr (A == Activation::kRelu) return Relu(x);
}
template <Activation A>
[[gnu::always_inline]] inline float Slope(float x) {
  if constexpr (A == Activation::kGeluErf) return GeluErfSlope(x);
  if constexpr (A == Activation::kGeluTanh) return GeluTanhSlope(x);
  if constexpr (A == Activation::kRelu) return ReluSlope(x);
}

}  // namespace cloze::cpu::formulas

#endif  // CLOZE_KERNELS_CPU_ACTIVATION_FORMULAS_H_
