#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/squared_error.h"

namespace cloze::cuda {
namespace {

__global__ void squared_error_forward_kernel(float* losses, const float* predictions, const float* targets,
                                             int64_t n) {
  CLOZE_GRID_STRIDE_LOOP(i, n) {
    const float diff = predictions[i] - targets[i];
    losses[i] = diff * diff;
  }
}

// The CPU's order: (2 · diff) · scale, then the add.
__global__ void squared_error_backward_kernel(float* dpredictions, const float* predictions, const float* targets,
                                              int64_t n, float scale) {
  CLOZE_GRID_STRIDE_LOOP(i, n) {
    dpredictions[i] += 2.0f * (predictions[i] - targets[i]) * scale;
  }
}

}  // namespace

void squared_error_forward(float* losses, const float* predictions, const float* targets, int64_t n) {
  if (n <= 0) return;  // a grid of zero blocks is a launch error
  squared_error_forward_kernel<<<grid_for(n), kThreads>>>(losses, predictions, targets, n);
}

void squared_error_backward(float* dpredictions, const float* predictions, const float* targets, int64_t n,
                            float scale) {
  if (n <= 0) return;
  squared_error_backward_kernel<<<grid_for(n), kThreads>>>(dpredictions, predictions, targets, n, scale);
}

}  // namespace cloze::cuda
