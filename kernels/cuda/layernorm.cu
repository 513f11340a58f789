#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/layernorm_rows.cuh"

namespace cloze::cuda {
namespace {

using layernorm_rows::kRowThreads;

// One block per row, the CPU's three steps (layernorm_rows.cuh): mean, then the mean square
// of (x − mean) (two passes, as the CPU, not E[x²] − mean², which cancels), then the affine
// output. Threads stride over the row, so any c works; rows are re-read from L2/L1, not cached.
__global__ void layernorm_forward_kernel(float* out, float* mean, float* rstd, const float* inp,
                                         const float* weight, const float* bias, int64_t n,
                                         int64_t c, float eps) {
  CLOZE_BLOCK_ROW_LOOP(row, n) {
    const float* x = inp + row * c;
    float sum = 0.0f;
    for (int64_t i = threadIdx.x; i < c; i += blockDim.x) sum += x[i];
    layernorm_rows::normalize_row(out + row * c, nullptr, mean + row, rstd + row, x, sum, weight,
                                  bias, c, eps);
  }
}

// dx += rstd · (g − mean(g) − x̂ · mean(g·x̂)) with x̂ = (x − mean)·rstd, g = dout·weight.
__global__ void layernorm_backward_input_kernel(float* dinp, const float* dout, const float* inp,
                                                const float* weight, const float* mean,
                                                const float* rstd, int64_t n, int64_t c) {
  CLOZE_BLOCK_ROW_LOOP(row, n) {
    float* dx = dinp + row * c;
    layernorm_rows::input_grad_row(dout + row * c, inp + row * c, weight, mean[row], rstd[row],
                                   c, [dx](int64_t i, float d) { dx[i] += d; });
  }
}

// dweight, dbias: one thread per column, summing rows in order (deterministic; adjacent
// threads read adjacent columns, so each row's reads coalesce). The CPU's order and
// rounding: given the same mean and rstd, the sums are the CPU's bit for bit.
__global__ void layernorm_backward_params_kernel(float* dweight, float* dbias, const float* dout,
                                                 const float* inp, const float* mean,
                                                 const float* rstd, int64_t n, int64_t c) {
  CLOZE_GRID_STRIDE_LOOP(i, c) {
    float dw = 0.0f, db = 0.0f;
    for (int64_t row = 0; row < n; ++row) {
      const float dy = dout[row * c + i];
      dw += layernorm_rows::weighted_grad_xhat(dy, inp[row * c + i], mean[row], rstd[row]);
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
  layernorm_forward_kernel<<<row_grid_for(n), kRowThreads>>>(out, mean, rstd, inp, weight, bias,
                                                             n, c, eps);
}

void layernorm_backward_params(float* dweight, float* dbias, const float* dout, const float* inp,
                               const float* mean, const float* rstd, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) return;
  layernorm_backward_params_kernel<<<grid_for(c), kThreads>>>(dweight, dbias, dout, inp, mean,
                                                              rstd, n, c);
}

void layernorm_backward(float* dinp, float* dweight, float* dbias, const float* dout,
                        const float* inp, const float* weight, const float* mean,
                        const float* rstd, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) return;
  layernorm_backward_input_kernel<<<row_grid_for(n), kRowThreads>>>(dinp, dout, inp, weight, mean,
                                                                    rstd, n, c);
  layernorm_backward_params(dweight, dbias, dout, inp, mean, rstd, n, c);
}

}  // namespace cloze::cuda
