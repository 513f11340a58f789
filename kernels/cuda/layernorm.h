// Layer normalisation on the GPU: the CUDA twin of kernels/cpu/layernorm.h, in float.
//
// Same signatures and contracts as the CPU ops, on DEVICE pointers. Shapes: inp, out (n, c);
// weight, bias (c); mean, rstd (n), written by forward and read by backward
// (rstd = 1 / sqrt(var + eps), biased variance). Forward overwrites out, mean, rstd; out may
// alias inp. Backward ADDS into dinp (n, c), dweight and dbias (c); none may alias an input.
// Both run one block per row (dinp) and one thread per column summing rows in order
// (dweight, dbias), so results are deterministic run to run. The row math is
// layernorm_rows.h's, every product rounded on its own (no FMA), as the CPU rounds it.
// Calls only enqueue work on the default stream; a bad launch or a fault inside the kernel
// is reported by the next device_synchronize() (device.h). n <= 0 or c <= 0 does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_LAYERNORM_H_
#define CLOZE_KERNELS_CUDA_LAYERNORM_H_

#include <cstdint>

namespace cloze::cuda {

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int64_t n, int64_t c, float eps);

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int64_t n, int64_t c);

// Only layernorm_backward's column sums: dweight (c) += Σ_rows dout·(inp − mean)·rstd and
// dbias (c) += Σ_rows dout, each column summed by one thread over rows in order. For fused
// ops that take the input gradient themselves (residual_layernorm.h).
void layernorm_backward_params(float* dweight, float* dbias, const float* dout, const float* inp,
                               const float* mean, const float* rstd, int64_t n, int64_t c);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_LAYERNORM_H_
