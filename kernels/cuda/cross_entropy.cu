#include <cfloat>

#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/reduce.cuh"

namespace cloze::cuda {
namespace {

// One block per row, the CPU's steps: max, Σ exp(z − max) (stored unnormalised in probs
// first, as the CPU does), then probs /= sum and the log-sum-exp loss.
__global__ void softmax_cross_entropy_forward_kernel(float* losses, float* probs,
                                                     const float* logits, const int32_t* labels,
                                                     int64_t m, int64_t v) {
  CLOZE_BLOCK_ROW_LOOP(r, m) {
    const float* z = logits + r * v;
    float* p = probs + r * v;
    float max = -FLT_MAX;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) max = fmaxf(max, z[j]);
    max = block_max(max, -FLT_MAX);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
      p[j] = expf(z[j] - max);
      sum += p[j];
    }
    sum = block_sum(sum);
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) p[j] /= sum;
    if (threadIdx.x == 0) {
      const int32_t label = labels[r];
      losses[r] = label >= 0 ? logf(sum) + max - z[label] : 0.0f;
    }
  }
}

__global__ void softmax_cross_entropy_backward_kernel(float* dlogits, const float* probs,
                                                      const int32_t* labels, int64_t m,
                                                      int64_t v, float scale) {
  CLOZE_GRID_STRIDE_LOOP(i, m * v) {
    const int32_t label = labels[i / v];
    if (label < 0) continue;
    // Two roundings, as the CPU: d += p·scale for the row, then d[label] −= scale.
    float d = dlogits[i] + probs[i] * scale;
    if (i % v == label) d -= scale;
    dlogits[i] = d;
  }
}

}  // namespace

void softmax_cross_entropy_forward(float* losses, float* probs, const float* logits,
                                   const int32_t* labels, int64_t m, int64_t v) {
  if (m <= 0 || v <= 0) return;  // a grid of zero blocks is a launch error
  softmax_cross_entropy_forward_kernel<<<row_grid_for(m), kThreads>>>(losses, probs, logits,
                                                                      labels, m, v);
}

void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels,
                                    int64_t m, int64_t v, float scale) {
  if (m <= 0 || v <= 0) return;
  softmax_cross_entropy_backward_kernel<<<grid_for(m * v), kThreads>>>(dlogits, probs, labels, m,
                                                                       v, scale);
}

}  // namespace cloze::cuda
