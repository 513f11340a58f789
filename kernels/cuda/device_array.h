// DEVICE memory that frees itself, with absl::Status errors: what the GPU trainer code
// (model/gpu_model.cc, gpu_optimizer.cc) holds its buffers in.
//
// Plain C++ over kernels/cuda/device.h. Not thread-safe; move-only.
#ifndef CLOZE_KERNELS_CUDA_DEVICE_ARRAY_H_
#define CLOZE_KERNELS_CUDA_DEVICE_ARRAY_H_

#include <cstdint>
#include <span>
#include "absl/strings/string_view.h"
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "kernels/cuda/device.h"

namespace cloze {

// OK, or Internal "<what>: <the CUDA error>".
inline absl::Status FromDeviceStatus(const cuda::DeviceStatus& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", status.error));
}

template <typename T>
class DeviceArray {
 public:
  DeviceArray() = default;
  ~DeviceArray() { (void)cuda::device_free(ptr_); }
  DeviceArray(DeviceArray&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  DeviceArray& operator=(DeviceArray&& other) noexcept {
    std::swap(ptr_, other.ptr_);
    std::swap(size_, other.size_);
    return *this;
  }
  DeviceArray(const DeviceArray&) = delete;
  DeviceArray& operator=(const DeviceArray&) = delete;

  // Makes room for exactly `size` elements (contents undefined; nothing happens when the
  // size is unchanged). ResourceExhausted naming `what` when the allocation fails.
  absl::Status Resize(int64_t size, absl::string_view what) {
    if (size == size_) return absl::OkStatus();
    (void)cuda::device_free(ptr_);
    ptr_ = nullptr;
    size_ = 0;
    const cuda::DeviceStatus s = cuda::device_alloc(&ptr_, static_cast<size_t>(size) * sizeof(T));
    if (!s.ok()) {
      return absl::ResourceExhaustedError(
          absl::StrCat("allocating ", what, " (", size, " elements of ", sizeof(T), " bytes): ", s.error));
    }
    size_ = size;
    return absl::OkStatus();
  }

  absl::Status Upload(std::span<const T> host, absl::string_view what) {
    if (static_cast<int64_t>(host.size()) != size_) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", host.size(), " host elements for a device buffer of ", size_));
    }
    return FromDeviceStatus(cuda::copy_to_device(ptr_, host.data(), host.size() * sizeof(T)), what);
  }
  absl::Status Download(std::span<T> host, absl::string_view what) const {
    if (static_cast<int64_t>(host.size()) != size_) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", host.size(), " host elements for a device buffer of ", size_));
    }
    return FromDeviceStatus(cuda::copy_to_host(host.data(), ptr_, host.size() * sizeof(T)), what);
  }

  T* get() { return static_cast<T*>(ptr_); }
  const T* get() const { return static_cast<const T*>(ptr_); }
  int64_t size() const { return size_; }

 private:
  void* ptr_ = nullptr;
  int64_t size_ = 0;
};

}  // namespace cloze

#endif  // CLOZE_KERNELS_CUDA_DEVICE_ARRAY_H_
