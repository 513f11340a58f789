#include "kernels/cuda/gather.h"
#include "kernels/cuda/launch.cuh"

namespace cloze::cuda {
namespace {

__global__ void gather_rows_forward_kernel(float* out, const float* inp, const int32_t* rows,
                                           int64_t m, int64_t c) {
  CLOZE_GRID_STRIDE_LOOP(i, m * c) {
    out[i] = inp[static_cast<int64_t>(rows[i / c]) * c + i % c];
  }
}

__global__ void gather_rows_backward_kernel(float* dinp, const float* dout, const int32_t* rows,
                                            int64_t m, int64_t c) {
  CLOZE_GRID_STRIDE_LOOP(i, m * c) {
    atomicAdd(dinp + static_cast<int64_t>(rows[i / c]) * c + i % c, dout[i]);
  }
}

}  // namespace

void gather_rows_forward(float* out, const float* inp, const int32_t* rows, int64_t m, int64_t c) {
  if (m <= 0 || c <= 0) return;  // a grid of zero blocks is a launch error
  gather_rows_forward_kernel<<<grid_for(m * c), kThreads>>>(out, inp, rows, m, c);
}

void gather_rows_backward(float* dinp, const float* dout, const int32_t* rows, int64_t m,
                          int64_t c) {
  if (m <= 0 || c <= 0) return;
  gather_rows_backward_kernel<<<grid_for(m * c), kThreads>>>(dinp, dout, rows, m, c);
}

}  // namespace cloze::cuda
