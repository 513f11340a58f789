#include <cmath>

#include "kernels/cuda/attention.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/reduce.cuh"

namespace cloze::cuda {
namespace {

// One block per row, the CPU's steps: the max over real keys, p = exp(s − max) (0 for
// padding) and its sum, then p *= 1 / sum. Each element is read and written by one thread,
// in order, so probs may alias scores.
__global__ void masked_softmax_forward_kernel(float* probs, const float* scores,
                                              const int32_t* key_mask, int64_t rows, int64_t t,
                                              int64_t rows_per_mask) {
  CLOZE_BLOCK_ROW_LOOP(r, rows) {
    const float* s = scores + r * t;
    const int32_t* mask = key_mask + (r / rows_per_mask) * t;
    float* p = probs + r * t;
    float max = -INFINITY;
    for (int64_t j = threadIdx.x; j < t; j += blockDim.x) {
      if (mask[j] != 0) max = fmaxf(max, s[j]);
    }
    max = block_max(max, -INFINITY);
    float sum = 0.0f;
    for (int64_t j = threadIdx.x; j < t; j += blockDim.x) {
      p[j] = mask[j] != 0 ? expf(s[j] - max) : 0.0f;
      sum += p[j];
    }
    sum = block_sum(sum);
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
    for (int64_t j = threadIdx.x; j < t; j += blockDim.x) p[j] *= inv;
  }
}

__global__ void masked_softmax_backward_kernel(float* dscores, const float* dprobs,
                                               const float* probs, int64_t rows, int64_t t) {
  CLOZE_BLOCK_ROW_LOOP(r, rows) {
    const float* p = probs + r * t;
    const float* dp = dprobs + r * t;
    float dot = 0.0f;
    for (int64_t j = threadIdx.x; j < t; j += blockDim.x) dot += dp[j] * p[j];
    dot = block_sum(dot);
    float* ds = dscores + r * t;
    for (int64_t j = threadIdx.x; j < t; j += blockDim.x) ds[j] += p[j] * (dp[j] - dot);
  }
}

// Attention rows are T ≤ 512 wide: 128 threads keep a row's loop short without idling.
constexpr int kRowThreads = 128;

}  // namespace

void masked_softmax_forward_grouped(float* probs, const float* scores, const int32_t* key_mask,
                                    int64_t rows, int64_t t, int64_t rows_per_mask) {
  if (rows <= 0 || t <= 0) return;  // a grid of zero blocks is a launch error
  masked_softmax_forward_kernel<<<row_grid_for(rows), kRowThreads>>>(probs, scores, key_mask,
                                                                     rows, t, rows_per_mask);
}

void masked_softmax_forward(float* probs, const float* scores, const int32_t* key_mask,
                            int64_t rows, int64_t t) {
  masked_softmax_forward_grouped(probs, scores, key_mask, rows, t, rows > 0 ? rows : 1);
}

void masked_softmax_backward(float* dscores, const float* dprobs, const float* probs,
                             int64_t rows, int64_t t) {
  if (rows <= 0 || t <= 0) return;
  masked_softmax_backward_kernel<<<row_grid_for(rows), kRowThreads>>>(dscores, dprobs, probs,
                                                                      rows, t);
}

}  // namespace cloze::cuda
