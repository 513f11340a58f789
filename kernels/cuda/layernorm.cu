#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/reduce.cuh"

namespace cloze::cuda {
namespace {

// One block per row, the CPU's three steps: mean, then the mean square of (x − mean)
// (two passes, as the CPU, not E[x²] − mean², which cancels), then the affine output.
// Threads stride over the row, so any c works; rows are re-read from L2/L1, not cached.
__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* inp,
                                         const float* weight, const float* bias, int64_t n,
                                         int64_t c, float eps) {
  CLOZE_BLOCK_ROW_LOOP(row, n) {
    const float* x = inp + row * c;
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < c; i += blockDim.x) sum += x[i];
    const float m = block_sum(sum) / float(c);
    float squares = 0.0f;
    for (int64_t i = threadIdx.x; i < c; i += blockDim.x) squares += (x[i] - m) * (x[i] - m);
    // 1 / sqrt, not rsqrtf: the CPU's rounding, within an ulp.
    const float s = 1.0f / sqrtf(block_sum(squares) / float(c) + eps);
    float* y = out + row * c;
    for (int64_t i = threadIdx.x; i < c; i += blockDim.x) y[i] = (x[i] - m) * s * weight[i] + bias[i];
    if (threadIdx.x == 0) {
      mean[row] = m;
      rstd[row] = s;
    }
  }
}

// dx = rstd · (g − mean(g) − x̂ · mean(g·x̂)) with x̂ = (x − mean)·rstd, g = dout·weight.
__global__ void layernorm_backward_input_kernel(float* dinp, const float* dout, const float* inp,
                                                const float* weight, const float* mean,
                                                const float* rstd, int64_t n, int64_t c) {
  CLOZE_BLOCK_ROW_LOOP(row, n) {
    const float* x = inp + row * c;
    const float* dy = dout + row * c;
    const float m = mean[row];
    const float s = rstd[row];
    float g_sum = 0.0f, g_xhat_sum = 0.0f;
    for (int64_t i = threadIdx.x; i < c; i += blockDim.x) {
      const float g = dy[i] * weight[i];
      g_sum += g;
      g_xhat_sum += g * (x[i] - m) * s;
    }
    const float g_mean = block_sum(g_sum) / float(c);
    const float g_xhat_mean = block_sum(g_xhat_sum) / float(c);
    float* dx = dinp + row * c;
    for (int64_t i = threadIdx.x; i < c; i += blockDim.x) {
      const float xhat = (x[i] - m) * s;
      dx[i] += s * (dy[i] * weight[i] - g_mean - xhat * g_xhat_mean);
    }
  }
}

// dweight, dbias: one thread per column, summing rows in order (deterministic; adjacent
// threads read adjacent columns, so each row's reads coalesce).
__global__ void layernorm_backward_params_kernel(float* dweight, float* dbias, const float* dout,
                                                 const float* inp, const float* mean,
                                                 const float* rstd, int64_t n, int64_t c) {
  CLOZE_GRID_STRIDE_LOOP(i, c) {
    float dw = 0.0f, db = 0.0f;
    for (int64_t row = 0; row < n; ++row) {
      const float dy = dout[row * c + i];
      dw += dy * (inp[row * c + i] - mean[row]) * rstd[row];
      db += dy;
    }
    dweight[i] += dw;
    dbias[i] += db;
  }
}

}  // namespace

void layernorm_forward(float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int64_t n, int64_t c, float eps) {
  if (n <= 0 || c <= 0) return;  // a grid of zero blocks is a launch error
  layernorm_forward_kernel<<<row_grid_for(n), kThreads>>>(out, mean, rstd, inp, weight, bias, n,
                                                          c, eps);
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) return;
  layernorm_backward_input_kernel<<<row_grid_for(n), kThreads>>>(dinp, dout, inp, weight, mean,
                                                                 rstd, n, c);
  layernorm_backward_params_kernel<<<grid_for(c), kThreads>>>(dweight, dbias, dout, inp, mean,
                                                              rstd, n, c);
}

}  // namespace cloze::cuda
