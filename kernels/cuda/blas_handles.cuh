// BlasContext's CUDA objects. Device-side code only: include from .cu files.
#ifndef CLOZE_KERNELS_CUDA_BLAS_HANDLES_CUH_
#define CLOZE_KERNELS_CUDA_BLAS_HANDLES_CUH_

#include <cublasLt.h>
#include <cublas_v2.h>

#include <cstddef>

#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/cublas_status.cuh"
#include "kernels/cuda/lt_plan_cache.cuh"

namespace cloze::cuda {

struct BlasContext::Handles {
  cublasHandle_t blas = nullptr;
  cublasLtHandle_t lt = nullptr;
  void* workspace = nullptr;
  size_t workspace_bytes = 0;
  // The cuBLASLt plans of the products run with this context (matmul.h's ops).
  LtPlanCache plans;
};

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_BLAS_HANDLES_CUH_
