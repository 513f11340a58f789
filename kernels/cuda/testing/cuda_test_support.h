// What the CUDA-vs-CPU op tests share: device buffers that free themselves, random inputs,
// and a comparison that names the worst element.
//
// Every failure is a gtest failure (EXPECT/ADD_FAILURE), never an abort, so one broken
// op does not hide the others. Header-only; plain C++ (the tests are built by g++).
#ifndef CLOZE_KERNELS_CUDA_TESTING_CUDA_TEST_SUPPORT_H_
#define CLOZE_KERNELS_CUDA_TESTING_CUDA_TEST_SUPPORT_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cuda/device.h"

// BUILD defines CLOZE_CUDA_BUILT through if_cuda(); without it the CUDA ops are not linked,
// and gpu_usable() fails, so the tests that would call them skip.
#ifdef CLOZE_CUDA_BUILT
#define CLOZE_IF_CUDA_BUILT(code) code
#else
#define CLOZE_IF_CUDA_BUILT(code)
#endif

namespace cloze::cuda::testing {

// Skips the calling test (from SetUp or the test body) when no kernel can run here.
#define CLOZE_SKIP_WITHOUT_GPU()                                                    \
  do {                                                                              \
    const ::cloze::cuda::DeviceStatus usable_ = ::cloze::cuda::gpu_usable();        \
    if (!usable_.ok()) GTEST_SKIP() << "no usable GPU: " << usable_.error;          \
  } while (0)

// Device memory holding `size` elements of T; frees itself.
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t size) : size_(size) {
    DeviceStatus s = device_alloc(&ptr_, size * sizeof(T));
    EXPECT_TRUE(s.ok()) << s.error;
  }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { Upload(host); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  ~DeviceBuffer() { EXPECT_TRUE(device_free(ptr_).ok()); }

  T* get() { return static_cast<T*>(ptr_); }
  size_t size() const { return size_; }

  void Upload(const std::vector<T>& host) {
    ASSERT_EQ(host.size(), size_);
    DeviceStatus s = copy_to_device(ptr_, host.data(), size_ * sizeof(T));
    EXPECT_TRUE(s.ok()) << s.error;
  }
  // Fills the buffer with NaN, so an element the kernel fails to write shows.
  void Poison() {
    if constexpr (std::numeric_limits<T>::has_quiet_NaN) {
      Upload(std::vector<T>(size_, std::numeric_limits<T>::quiet_NaN()));
    } else {
      Upload(std::vector<T>(size_, T(0x7fc0)));  // bf16 bits of a NaN
    }
  }
  // Waits for the kernels, then copies back; the host copy starts poisoned too, so a copy
  // that silently did nothing is caught.
  std::vector<T> Download() {
    std::vector<T> host(size_);
    if constexpr (std::numeric_limits<T>::has_quiet_NaN) {
      host.assign(size_, std::numeric_limits<T>::quiet_NaN());
    }
    DeviceStatus s = device_synchronize();
    EXPECT_TRUE(s.ok()) << s.error;
    s = copy_to_host(host.data(), ptr_, size_ * sizeof(T));
    EXPECT_TRUE(s.ok()) << s.error;
    return host;
  }

 private:
  void* ptr_ = nullptr;
  size_t size_;
};

inline std::vector<float> Gaussian(std::mt19937_64& rng, size_t n, float sigma = 1.0f) {
  std::normal_distribution<float> normal(0.f, sigma);
  std::vector<float> v(n);
  for (float& f : v) f = normal(rng);
  return v;
}

inline std::vector<int32_t> UniformInts(std::mt19937_64& rng, size_t n, int32_t lo, int32_t hi) {
  std::uniform_int_distribution<int32_t> uniform(lo, hi);
  std::vector<int32_t> v(n);
  for (int32_t& x : v) x = uniform(rng);
  return v;
}

// Root mean square of `v` (0 for an empty vector): the natural scale of a tensor's values.
inline double Rms(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += double(x) * x;
  return v.empty() ? 0.0 : std::sqrt(sum / v.size());
}

// "" when every got[i] is within `limit` of want[i] in the error
//   |got − want| / (|want| + floor),
// relative for large values and absolute (in units of `floor`) near zero, where float
// results that cancel carry only an absolute error. Otherwise a sentence naming the worst
// element. A NaN anywhere fails (an unwritten, still-poisoned element).
inline std::string Compare(const std::vector<float>& got, const std::vector<float>& want,
                           double limit, double floor) {
  if (got.size() != want.size()) {
    return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  }
  double worst = -1;
  size_t worst_i = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::fabs(double(got[i]) - double(want[i])) / (std::fabs(double(want[i])) + floor);
    if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    if (err > worst) worst = err, worst_i = i;
  }
  if (worst <= limit) return "";
  char text[240];
  std::snprintf(text, sizeof(text), "element %zu of %zu: cuda=%.9g cpu=%.9g, error %.3g > %.3g",
                worst_i, got.size(), double(got[worst_i]), double(want[worst_i]), worst, limit);
  return text;
}

// Compare with the floor set to the RMS of `want` (at least 1e-30): the error relative to
// the tensor's scale, for sums whose individual elements may cancel to near zero.
inline std::string CompareScaled(const std::vector<float>& got, const std::vector<float>& want,
                                 double limit) {
  return Compare(got, want, limit, std::max(Rms(want), 1e-30));
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_CUDA_TEST_SUPPORT_H_
