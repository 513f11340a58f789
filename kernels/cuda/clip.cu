#include <cmath>

#include "kernels/cuda/clip.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/reduce.cuh"

namespace cloze::cuda {
namespace {

// The CPU's block (kernels/cpu/clip.cc kBlock): the reduction order depends on it alone.
// global_norm_scratch_doubles (clip.h) assumes it.
constexpr int64_t kBlock = 1 << 15;
constexpr int kNormThreads = 512;

int64_t blocks_of(int64_t n) { return (n + kBlock - 1) / kBlock; }

__global__ void block_squares_kernel(double* partial, const float* x, int64_t n, int64_t blocks) {
  CLOZE_BLOCK_ROW_LOOP(b, blocks) {
    const int64_t end = min(n, (b + 1) * kBlock);
    double sum = 0;
    for (int64_t i = b * kBlock + threadIdx.x; i < end; i += blockDim.x) {
      sum += static_cast<double>(x[i]) * x[i];
    }
    sum = block_sum(sum);
    if (threadIdx.x == 0) partial[b] = sum;
  }
}

// One thread: the block sums in block order, then the root, into partial[blocks].
__global__ void total_norm_kernel(double* partial, int64_t blocks) {
  double total = 0;
  for (int64_t b = 0; b < blocks; ++b) total += partial[b];
  partial[blocks] = sqrt(total);
}

__global__ void scale_kernel(float* g, int64_t n, float scale) {
  CLOZE_GRID_STRIDE_LOOP(i, n) { g[i] *= scale; }
}

}  // namespace

DeviceStatus global_norm(double* norm, const float* values, int64_t n, double* scratch) {
  *norm = 0;
  if (n <= 0) return {};
  const int64_t blocks = blocks_of(n);
  block_squares_kernel<<<row_grid_for(blocks), kNormThreads>>>(scratch, values, n, blocks);
  total_norm_kernel<<<1, 1>>>(scratch, blocks);
  // Synchronous: waits for both kernels and reports their faults.
  CLOZE_RETURN_IF_DEVICE_ERROR(device_synchronize());
  return copy_to_host(norm, scratch + blocks, sizeof(double));
}

float clip_scale(double norm, double max_norm) {
  if (!std::isfinite(norm) || max_norm <= 0 || !(norm > max_norm)) return 1.0f;
  return static_cast<float>(max_norm / norm);
}

void scale_gradients(float* grads, int64_t n, float scale) {
  if (scale == 1.0f || n <= 0) return;
  scale_kernel<<<grid_for(n), kThreads>>>(grads, n, scale);
}

DeviceStatus clip_gradients_by_global_norm(ClipOutcome* outcome, float* grads, int64_t n,
                                           double max_norm, double* scratch) {
  *outcome = ClipOutcome{};
  CLOZE_RETURN_IF_DEVICE_ERROR(global_norm(&outcome->norm, grads, n, scratch));
  outcome->finite = std::isfinite(outcome->norm);
  if (!outcome->finite || max_norm <= 0 || !(outcome->norm > max_norm)) return {};
  scale_gradients(grads, n, clip_scale(outcome->norm, max_norm));
  outcome->clipped = true;
  return {};
}

}  // namespace cloze::cuda
