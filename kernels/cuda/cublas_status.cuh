// cuBLAS status codes as DeviceStatus. Device-side code only: include from .cu files.
#ifndef CLOZE_KERNELS_CUDA_CUBLAS_STATUS_CUH_
#define CLOZE_KERNELS_CUDA_CUBLAS_STATUS_CUH_

#include <cublas_api.h>

#include <string>

#include "kernels/cuda/device.h"

namespace cloze::cuda {

inline DeviceStatus check_cublas(cublasStatus_t code, const char* call) {
  if (code == CUBLAS_STATUS_SUCCESS) return {};
  return {std::string(call) + ": " + cublasGetStatusName(code) + " (" +
          cublasGetStatusString(code) + ")"};
}

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_CUBLAS_STATUS_CUH_
