// device.h where no CUDA code is built (--config=cpu, or no toolkit when Bazel looked):
// every call reports that, so host code and tests need no #ifdef around the device API.
#include "kernels/cuda/device.h"

namespace cloze::cuda {
namespace {

DeviceStatus not_built() {
  return {
      "this binary has no CUDA code (built with --config=cpu, or Bazel found no CUDA "
      "toolkit at $CUDA_PATH or /usr/local/cuda)"};
}

}  // namespace

DeviceStatus gpu_usable() { return not_built(); }
std::string device_description() { return ""; }

DeviceStatus device_alloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  return bytes == 0 ? DeviceStatus{} : not_built();
}

DeviceStatus device_free(void* ptr) { return ptr == nullptr ? DeviceStatus{} : not_built(); }
DeviceStatus copy_to_device(void*, const void*, size_t) { return not_built(); }
DeviceStatus copy_to_host(void*, const void*, size_t) { return not_built(); }
DeviceStatus device_synchronize() { return not_built(); }

}  // namespace cloze::cuda
