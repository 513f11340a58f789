// The dense layers' GEMMs as cuBLASLt products, shared by matmul.cu and matmul_gelu.cu so
// that the row-major to column-major mapping is written once. Device-side code only.
//
// cuBLASLt is column-major; a row-major (rows, cols) matrix is its column-major transpose
// (cols × rows, leading dimension cols), which is how every product below is derived.
#ifndef CLOZE_KERNELS_CUDA_MATMUL_PRODUCTS_CUH_
#define CLOZE_KERNELS_CUDA_MATMUL_PRODUCTS_CUH_

#include <cstdint>

#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/lt_plan_key.h"

namespace cloze::cuda {

// out (n, oc) = inp (n, c) · weightᵀ (+ bias): column-major outᵀ (oc × n) =
// W (oc × c, stored c × oc: transposed) · inpᵀ (c × n, stored as such). Overwrites (beta 0);
// the epilogue is kBias with a bias, else kNone.
LtProduct forward_product(LtInputType type, float* out, const void* inp, const void* weight,
                          const float* bias, int64_t n, int64_t c, int64_t oc);

// dinp (n, c) = dout (n, oc) · weight (oc, c), plus beta · dinp: column-major dinpᵀ (c × n) =
// W (stored c × oc) · doutᵀ (stored oc × n).
LtProduct input_gradient_product(LtInputType type, float* dinp, const void* dout,
                                 const void* weight, float beta, int64_t n, int64_t c, int64_t oc);

// Runs p through the context's plan cache; an error when cuBLASLt has no algorithm for it.
DeviceStatus run_product(BlasContext& context, const LtProduct& p);

// Runs p if cuBLASLt can (*ran true); otherwise (*ran false, ok) nothing was enqueued and
// the caller takes its fallback. A launch that cuBLASLt rejects marks p's plan
// unsupported, so later calls go straight to the fallback. For the fused epilogues, whose
// support differs by GPU, type and cuBLASLt version.
DeviceStatus try_run_product(BlasContext& context, const LtProduct& p, bool* ran);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_MATMUL_PRODUCTS_CUH_
