// What the CUDA-vs-CPU op tests share: device buffers that free themselves, and (from
// compare.h, re-exported here) random inputs and comparisons that name the worst element.
//
// Every failure is a gtest failure (EXPECT/ADD_FAILURE), never an abort, so one broken
// op does not hide the others. Header-only; plain C++ (the tests are built by g++).
#ifndef CLOZE_KERNELS_CUDA_TESTING_CUDA_TEST_SUPPORT_H_
#define CLOZE_KERNELS_CUDA_TESTING_CUDA_TEST_SUPPORT_H_

#include <cstddef>
#include <limits>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/testing/compare.h"  // IWYU pragma: export

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

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_CUDA_TEST_SUPPORT_H_
