// How the kernels' tests compare a result with its reference, and the random inputs they
// draw: the CUDA tests, and the CPU tests that compare two CPU paths (packed, bf16, fused).
// Plain C++ over std::vector<float> or std::vector<double> (float where nothing
// says which, as for braced lists): no gtest, no device.h, so the host-only tests (the
// kernels' emulations, the host replays) use the same error formulas as the GPU tests.
// cuda_test_support.h re-exports it. Header-only.
#ifndef CLOZE_KERNELS_CUDA_TESTING_COMPARE_H_
#define CLOZE_KERNELS_CUDA_TESTING_COMPARE_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace cloze::cuda::testing {

// n draws from N(0, sigma²), drawn as float (the GPU tests' inputs).
inline std::vector<float> Gaussian(std::mt19937_64& rng, size_t n, float sigma = 1.0f) {
  std::normal_distribution<float> normal(0.f, sigma);
  std::vector<float> v(n);
  for (float& f : v) f = normal(rng);
  return v;
}

// n draws from N(mean, sigma²), drawn in double and rounded to T: a test that runs in double
// and in float from the same seed sees the same inputs, to float's precision. Not the same
// stream as Gaussian()'s.
template <typename T>
std::vector<T> GaussianAs(std::mt19937_64& rng, size_t n, double mean = 0.0, double sigma = 1.0) {
  std::normal_distribution<double> normal(mean, sigma);
  std::vector<T> v(n);
  for (T& x : v) x = T(normal(rng));
  return v;
}

// n draws from U(low, high) by std::mt19937(seed), drawn as float: the CPU kernels' tests'
// inputs, one seed per tensor.
inline std::vector<float> Uniform(size_t n, uint32_t seed, float low = -1.0f, float high = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(low, high);
  std::vector<float> v(n);
  for (float& x : v) x = uniform(rng);
  return v;
}

inline std::vector<int32_t> UniformInts(std::mt19937_64& rng, size_t n, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> uniform(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = uniform(rng);
  return v;
}

// after − before, element by element: what an op that ADDS into its output added, to be
// compared alone, so that the prior values do not dilute a limit relative to the RMS.
template <typename T = float>
std::vector<T> Added(const std::vector<T>& after, const std::vector<T>& before) {
  std::vector<T> added(after.size());
  for (size_t i = 0; i < after.size() && i < before.size(); ++i) added[i] = after[i] - before[i];
  return added;
}

// Root mean square of `v` (0 for an empty vector): the natural scale of a tensor's values.
template <typename T = float>
double Rms(const std::vector<T>& v) {
  double sum = 0;
  for (T x : v) sum += double(x) * double(x);
  return v.empty() ? 0.0 : std::sqrt(sum / v.size());
}

// The floor the scaled comparisons use: RMS(want), at least 1e-30.
template <typename T = float>
double ScaleOf(const std::vector<T>& want) {
  return std::max(Rms(want), 1e-30);
}

struct WorstElement {
  double error = 0;  // +inf where an element is NaN or the sizes differ
  size_t index = 0;
};

// The worst element in the error
//   |got − want| / (|want| + floor),
// relative for large values and absolute (in units of `floor`) near zero, where results
// that cancel carry only an absolute error. A NaN (an unwritten, still-poisoned element)
// counts as an infinite error.
template <typename T = float>
WorstElement WorstError(const std::vector<T>& got, const std::vector<T>& want, double floor) {
  WorstElement worst;
  if (got.size() != want.size()) {
    worst.error = std::numeric_limits<double>::infinity();
    return worst;
  }
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::fabs(double(got[i]) - double(want[i])) / (std::fabs(double(want[i])) + floor);
    if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    if (err > worst.error) worst = {err, i};
  }
  return worst;
}

// WorstError with the floor set to the tensor's scale (ScaleOf(want)): for sums whose
// individual elements may cancel to near zero.
template <typename T = float>
WorstElement WorstScaledError(const std::vector<T>& got, const std::vector<T>& want) {
  return WorstError(got, want, ScaleOf(want));
}

// "" when every got[i] is within `limit` of want[i] in WorstError's error, else a sentence
// naming the worst element, each side labelled (`got_name`=… `want_name`=…).
template <typename T = float>
std::string Compare(const std::vector<T>& got, const std::vector<T>& want, double limit,
                    double floor, const char* got_name = "cuda", const char* want_name = "cpu") {
  if (got.size() != want.size()) {
    return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  }
  const WorstElement worst = WorstError(got, want, floor);
  if (worst.error <= limit) return "";
  constexpr int kDigits = std::numeric_limits<T>::max_digits10;  // round-trips T
  char text[320];
  std::snprintf(text, sizeof(text), "element %zu of %zu: %s=%.*g %s=%.*g, error %.3g > %.3g",
                worst.index, got.size(), got_name, kDigits, double(got[worst.index]), want_name,
                kDigits, double(want[worst.index]), worst.error, limit);
  return text;
}

// Compare with the floor set to the tensor's scale (ScaleOf(want)).
template <typename T = float>
std::string CompareScaled(const std::vector<T>& got, const std::vector<T>& want, double limit,
                          const char* got_name = "cuda", const char* want_name = "cpu") {
  return Compare(got, want, limit, ScaleOf(want), got_name, want_name);
}

// sqrt(Σ (got − want)²) / sqrt(Σ want²), or +inf where got holds a NaN (an unwritten,
// poisoned element) or the sizes differ; 0 for two empty or all-zero tensors that agree.
// The error of a whole tensor relative to its RMS: for bf16 a steadier measure than the
// worst element, whose tail grows with the tensor's size.
template <typename T = float>
double RelativeRmsError(const std::vector<T>& got, const std::vector<T>& want) {
  if (got.size() != want.size()) return std::numeric_limits<double>::infinity();
  double err = 0, norm = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double e = double(got[i]) - double(want[i]);
    if (std::isnan(e)) return std::numeric_limits<double>::infinity();
    err += e * e;
    norm += double(want[i]) * double(want[i]);
  }
  if (err == 0) return 0;
  return norm > 0 ? std::sqrt(err / norm) : std::numeric_limits<double>::infinity();
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_COMPARE_H_
