#include "kernels/cuda/gpu_select.h"

#include <cuda_runtime.h>

namespace cloze {
namespace {

std::string Failure(const char* call, cudaError_t e) {
  cudaGetLastError();  // clear a sticky error so later calls report their own
  return std::string(call) + ": " + cudaGetErrorName(e) + ": " + cudaGetErrorString(e);
}

}  // namespace

std::string SelectGpu(int index) {
  if (index < 0) return "GPU index " + std::to_string(index) + " is negative";
  int count = 0;
  if (const cudaError_t e = cudaGetDeviceCount(&count); e != cudaSuccess) return Failure("cudaGetDeviceCount", e);
  if (index >= count) {
    return "GPU " + std::to_string(index) + " asked for, " + std::to_string(count) + " visible";
  }
  if (const cudaError_t e = cudaSetDevice(index); e != cudaSuccess) return Failure("cudaSetDevice", e);
  return "";
}

}  // namespace cloze
