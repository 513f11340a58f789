// The few CUDA runtime calls host code needs, behind a plain C++ header.
//
// Code built by g++ (tests, the trainer) includes this instead of <cuda_runtime.h>;
// device.cu holds the CUDA side. Nothing here aborts: every call reports failure as a
// DeviceStatus carrying the CUDA error's name and text. Where no CUDA code is built
// (--config=cpu, no toolkit) device_none.cc stands in: every call needing a device fails
// saying so, so host code may call these unconditionally. All calls act on the current
// device (device 0 unless the caller changed it). Thread-safe as the CUDA runtime is.
#ifndef CLOZE_KERNELS_CUDA_DEVICE_H_
#define CLOZE_KERNELS_CUDA_DEVICE_H_

#include <cstddef>
#include <string>

namespace cloze::cuda {

// The outcome of a device call: ok(), or what went wrong.
struct [[nodiscard]] DeviceStatus {
  std::string error;  // empty when ok
  bool ok() const { return error.empty(); }
};

// Whether kernels built here can run in this process: a driver new enough for the
// CUDA 13 runtime linked in, a visible device, and one this binary carries code for
// (sm_80 or sm_90a; probed by launching an empty kernel). When not ok, `error` is a
// sentence fit for a test's skip message.
DeviceStatus gpu_usable();

// One-line description of device 0 ("NVIDIA H100 80GB HBM3, sm_90, 79 GiB"), or "".
std::string device_description();

// Allocates `bytes` of device memory into *ptr (nullptr on failure; 0 bytes gives nullptr
// and ok). Free with device_free, which accepts nullptr.
DeviceStatus device_alloc(void** ptr, size_t bytes);
DeviceStatus device_free(void* ptr);

// Synchronous copies between host and device memory; they wait for earlier kernels.
DeviceStatus copy_to_device(void* device_dst, const void* host_src, size_t bytes);
DeviceStatus copy_to_host(void* host_dst, const void* device_src, size_t bytes);

// Returns the DeviceStatus `expr` from the calling function unless it is ok.
#define CLOZE_RETURN_IF_DEVICE_ERROR(expr)          \
  do {                                              \
    ::cloze::cuda::DeviceStatus status_ = (expr);   \
    if (!status_.ok()) return status_;              \
  } while (0)

// Waits for all launched work; reports a failed launch or a fault inside a kernel.
DeviceStatus device_synchronize();

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_DEVICE_H_
