// One block's walk over one row of a layer norm, shared by layernorm.cu and
// residual_layernorm.cu so both sum in the same order and round alike (layernorm_rows.h).
// Device code only: include from .cu files. Launch with kRowThreads threads per block; every
// thread of the block must call these (they synchronise in block_sum).
//
// Thread t handles columns t, t + kRowThreads, ... of the row, always the same ones, so a
// caller may overwrite element i of an input row it read (out aliasing inp) and may keep its
// own elements in shared memory without further synchronisation.
// testing/residual_layernorm_emulation.h replays these loops on the host: keep them in step.
#ifndef CLOZE_KERNELS_CUDA_LAYERNORM_ROWS_CUH_
#define CLOZE_KERNELS_CUDA_LAYERNORM_ROWS_CUH_

#include <cuda_bf16.h>

#include <cstdint>

#include "kernels/cuda/layernorm_rows.h"
#include "kernels/cuda/reduce.cuh"

namespace cloze::cuda::layernorm_rows {

// Normalises the row `x` (c values, global or shared memory) given this thread's partial
// sum of its own elements of x (Σ x[i] over its columns, in column order from 0): writes
// y (c), y_bf16 (c, nullable: y rounded to nearest even) and, from thread 0, *mean, *rstd.
__device__ __forceinline__ void normalize_row(float* y, __nv_bfloat16* y_bf16, float* mean,
                                              float* rstd, const float* x, float partial_sum,
                                              const float* weight, const float* bias, int64_t c,
                                              float eps) {
  const float m = mean_of(block_sum(partial_sum), c);
  float squares = 0.0f;
  for (int64_t i = threadIdx.x; i < c; i += blockDim.x) squares += centered_square(x[i], m);
  const float s = rstd_of(block_sum(squares), c, eps);
  for (int64_t i = threadIdx.x; i < c; i += blockDim.x) {
    const float value = normalized(x[i], m, s, weight[i], bias[i]);
    y[i] = value;
    if (y_bf16 != nullptr) y_bf16[i] = __float2bfloat16_rn(value);
  }
  if (threadIdx.x == 0) {
    *mean = m;
    *rstd = s;
  }
}

// The input gradient of one row: calls sink(i, d_x_i) once for each of this thread's
// columns i, with d_x_i = rstd·((g − mean(g)) − x̂·mean(g·x̂)), g = dout·weight.
template <typename Sink>
__device__ __forceinline__ void input_grad_row(const float* dout, const float* x,
                                               const float* weight, float m, float s, int64_t c,
                                               Sink sink) {
  float g_sum = 0.0f, g_xhat_sum = 0.0f;
  for (int64_t i = threadIdx.x; i < c; i += blockDim.x) {
    const float g = weighted_grad(dout[i], weight[i]);
    g_sum += g;
    g_xhat_sum += weighted_grad_xhat(g, x[i], m, s);
  }
  const float g_mean = mean_of(block_sum(g_sum), c);
  const float g_xhat_mean = mean_of(block_sum(g_xhat_sum), c);
  for (int64_t i = threadIdx.x; i < c; i += blockDim.x) {
    sink(i, input_grad(weighted_grad(dout[i], weight[i]), x[i], m, s, g_mean, g_xhat_mean));
  }
}

}  // namespace cloze::cuda::layernorm_rows

#endif  // CLOZE_KERNELS_CUDA_LAYERNORM_ROWS_CUH_
