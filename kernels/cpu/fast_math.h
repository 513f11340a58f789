// Vectorisable float approximations of exp and erfc for the elementwise ops' float paths.
//
// The library's expf/tanhf/erff are scalar calls the compiler cannot vectorise; these are
// branch-free arithmetic, so an `omp simd` loop around them runs 8 or 16 lanes wide. The
// double instantiations of the ops keep std:: functions and are the reference the float
// paths are tested against (activations_accuracy_test).
#ifndef CLOZE_KERNELS_CPU_FAST_MATH_H_
#define CLOZE_KERNELS_CPU_FAST_MATH_H_

#include <cstdint>
#include <cstring>

namespace cloze::cpu {

// e^x with relative error below 2e-7 for x in [-87, 88]; clamped outside (e^-87 ≈ 1.6e-38,
// so results underflow to tiny normals instead of zero, and overflow is impossible).
#pragma omp declare simd notinbranch
inline float fast_expf(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  // x = n·ln2 + r with |r| ≤ ln2/2; adding and subtracting 1.5·2^23 rounds to nearest.
  const float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - n * 0.693359375f) + n * 2.12194440e-4f;  // ln2 split in two parts
  // Taylor series to r^6: truncation error (ln2/2)^7/7! < 1.2e-7.
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  // 2^n from the exponent bits.
  const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof(scale));
  return p * scale;
}

// erfc(z) from the Chebyshev fit of Press et al. (Numerical Recipes §6.2, 1.2e-7 in exact
// arithmetic), computed for |z| and reflected: erfc(-z) = 2 - erfc(z). In float the
// exponent argument −z² carries a rounding error of about z²·6e-8: relative error below
// 2e-6 for |z| ≤ 3 and 1e-5 for |z| ≤ 9, absolute error below 4e-7 everywhere (below
// 1.6e-38 the exp clamp keeps results from reaching zero).
#pragma omp declare simd notinbranch
inline float fast_erfcf(float z) {
  const float a = z < 0.0f ? -z : z;
  const float t = 1.0f / (1.0f + 0.5f * a);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float erfc_abs = t * fast_expf(p - a * a);
  return z < 0.0f ? 2.0f - erfc_abs : erfc_abs;
}

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_FAST_MATH_H_
