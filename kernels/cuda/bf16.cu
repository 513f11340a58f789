#include <cuda_bf16.h>

#include "kernels/cuda/bf16.h"
#include "kernels/cuda/launch.cuh"

namespace cloze::cuda {
namespace {

static_assert(sizeof(__nv_bfloat16) == sizeof(Bf16));

__global__ void float_to_bf16_kernel(__nv_bfloat16* out, const float* in, int64_t n) {
  CLOZE_GRID_STRIDE_LOOP(i, n) { out[i] = __float2bfloat16_rn(in[i]); }
}

}  // namespace

void float_to_bf16(Bf16* out, const float* in, int64_t n) {
  if (n <= 0) return;  // a grid of zero blocks is a launch error
  float_to_bf16_kernel<<<grid_for(n), kThreads>>>(reinterpret_cast<__nv_bfloat16*>(out), in, n);
}

}  // namespace cloze::cuda
