// BlasContext's CUDA objects, and turning cuBLAS status codes into DeviceStatus.
// Device-side code only: include from .cu files.
#ifndef CLOZE_KERNELS_CUDA_BLAS_HANDLES_CUH_
#define CLOZE_KERNELS_CUDA_BLAS_HANDLES_CUH_

#include <cublasLt.h>
#include <cublas_v2.h>

#include <cstddef>
#include <string>

#include "kernels/cuda/blas_context.h"

namespace cloze::cuda {

struct BlasContext::Handles {
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
};

inline DeviceStatus check_cublas(cublasStatus_t code, const char* call) {
  if (code == CUBLAS_STATUS_SUCCESS) return {};
  return {std::string(call) + ": " + cublasGetStatusName(code) + " (" +
          cublasGetStatusString(code) + ")"};
}

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_BLAS_HANDLES_CUH_
