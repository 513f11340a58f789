// Dense layers on the GPU: the CUDA twins of kernels/cpu/matmul.h, through cuBLASLt.
//
// out = inp · weightᵀ + bias, weight stored (out_features, in_features) as nn.Linear.
// Shapes: inp (n, c), weight (oc, c), bias (oc) or null, out (n, oc); DEVICE pointers.
// Forward overwrites out, the bias added in cuBLASLt's epilogue. Backward ADDS into dinp
// (n, c), dweight (oc, c) and dbias (oc); any may be null when not wanted. Buffers must not
// alias. Pointers need only float (or bf16) alignment: the alignment actually present is
// given to cuBLASLt's heuristic, so slices of the flat parameter buffer are fine.
//
// The extra BlasContext parameter (blas_context.h) carries the cuBLASLt handle and
// workspace, which the CPU ops do not need. Calls enqueue work on the default stream and
// return an error only when cuBLASLt rejects the problem (no algorithm, bad sizes); faults
// inside kernels surface at the next device_synchronize() (device.h). Sizes <= 0 (an
// empty product) do nothing. Not thread-safe for one context.
//
// fp32: compute type CUBLAS_COMPUTE_32F (no TF32), so results are the CPU's within float
// rounding. bf16: inputs (inp, weight, dout) in bf16, products accumulated in fp32, outputs
// and gradients (out, dinp, dweight, dbias) and the bias in fp32, as mixed-precision
// training keeps them. dbias is a separate column-sum kernel (rows in order, deterministic):
// cuBLASLt's BGRAD epilogues overwrite the bias gradient, and these ops accumulate.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_MATMUL_H_
#define CLOZE_KERNELS_CUDA_MATMUL_H_

#include <cstdint>

#include "kernels/cuda/bf16.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/device.h"

namespace cloze::cuda {

DeviceStatus matmul_forward(BlasContext& context, float* out, const float* inp,
                            const float* weight, const float* bias, int64_t n, int64_t c,
                            int64_t oc);
DeviceStatus matmul_backward(BlasContext& context, float* dinp, float* dweight, float* dbias,
                             const float* dout, const float* inp, const float* weight, int64_t n,
                             int64_t c, int64_t oc);

DeviceStatus matmul_forward_bf16(BlasContext& context, float* out, const Bf16* inp,
                                 const Bf16* weight, const float* bias, int64_t n, int64_t c,
                                 int64_t oc);
DeviceStatus matmul_backward_bf16(BlasContext& context, float* dinp, float* dweight, float* dbias,
                                  const Bf16* dout, const Bf16* inp, const Bf16* weight,
                                  int64_t n, int64_t c, int64_t oc);

// dbias (c) += column sums of dout (n, c), rows in order; the CPU's bias_backward.
void bias_backward(float* dbias, const float* dout, int64_t n, int64_t c);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_MATMUL_H_
