#include <cuda_runtime.h>

#include <cstdio>

#include "kernels/cuda/device.h"

namespace cloze::cuda {
namespace {

DeviceStatus check(cudaError_t code, const char* call) {
  if (code == cudaSuccess) return {};
  return {std::string(call) + ": " + cudaGetErrorName(code) + " (" + cudaGetErrorString(code) +
          ")"};
}

__global__ void empty_kernel() {}

}  // namespace

DeviceStatus gpu_usable() {
  int count = 0;
  // Fails with cudaErrorNoDevice / cudaErrorInsufficientDriver on machines without a
  // usable driver, which is the common reason for a skip.
  if (DeviceStatus s = check(cudaGetDeviceCount(&count), "cudaGetDeviceCount"); !s.ok()) {
    return {"no usable CUDA driver or device: " + s.error};
  }
  if (count == 0) return {"no CUDA device visible (CUDA_VISIBLE_DEVICES?)"};
  // cudaErrorNoKernelImageForDevice here means the GPU is neither sm_8x nor sm_90.
  empty_kernel<<<1, 1>>>();
  DeviceStatus launched = check(cudaGetLastError(), "launch");
  DeviceStatus s = launched.ok() ? device_synchronize() : launched;
  if (!s.ok()) {
    return {"cannot run kernels built for sm_80/sm_90a on " + device_description() + ": " +
            s.error};
  }
  return {};
}

std::string device_description() {
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return "";
  char text[400];
  std::snprintf(text, sizeof(text), "%s, sm_%d%d, %zu GiB", prop.name, prop.major, prop.minor,
                prop.totalGlobalMem >> 30);
  return text;
}

DeviceStatus device_alloc(void** ptr, size_t bytes) {
  *ptr = nullptr;
  if (bytes == 0) return {};
  DeviceStatus s = check(cudaMalloc(ptr, bytes), "cudaMalloc");
  if (!s.ok()) *ptr = nullptr;
  return s;
}

DeviceStatus device_free(void* ptr) { return check(cudaFree(ptr), "cudaFree"); }

DeviceStatus copy_to_device(void* device_dst, const void* host_src, size_t bytes) {
  return check(cudaMemcpy(device_dst, host_src, bytes, cudaMemcpyHostToDevice),
               "cudaMemcpy to device");
}

DeviceStatus copy_to_host(void* host_dst, const void* device_src, size_t bytes) {
  return check(cudaMemcpy(host_dst, device_src, bytes, cudaMemcpyDeviceToHost),
               "cudaMemcpy to host");
}

DeviceStatus device_synchronize() {
  if (DeviceStatus s = check(cudaDeviceSynchronize(), "cudaDeviceSynchronize"); !s.ok()) return s;
  return check(cudaGetLastError(), "cudaGetLastError");
}

}  // namespace cloze::cuda
