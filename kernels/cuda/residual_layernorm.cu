#include <cuda_bf16.h>

#include <string>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/layernorm_rows.cuh"
#include "kernels/cuda/residual_layernorm.h"

namespace cloze::cuda {
namespace {

using layernorm_rows::kRowThreads;
using layernorm_rows::RowDropout;

static_assert(sizeof(__nv_bfloat16) == sizeof(Bf16));

// One block per row. The row's sum = dropout(x) + residual is written out once and kept in
// dynamic shared memory (c floats) for the layer norm's two further passes; each thread
// reads back only the columns it wrote (layernorm_rows.cuh), so no barrier guards it.
__global__ void dropout_residual_layernorm_forward_kernel(
    float* out, __nv_bfloat16* out_bf16, float* sum, float* mean, float* rstd, const float* x,
    const float* residual, const float* weight, const float* bias, int64_t n, int64_t c,
    float eps, RowDropout dropout) {
  extern __shared__ float row_values[];
  CLOZE_BLOCK_ROW_LOOP(row, n) {
    const int64_t first = row * c;
    float partial_sum = 0.0f;
    for (int64_t i = threadIdx.x; i < c; i += blockDim.x) {
      const int64_t k = first + i;
      const bool keep = dropout.keeps(static_cast<uint64_t>(k));
      const float value = layernorm_rows::dropped_plus_residual(x[k], residual[k], dropout, keep);
      sum[k] = value;
      row_values[i] = value;
      partial_sum += value;
    }
    layernorm_rows::normalize_row(out + first, out_bf16 == nullptr ? nullptr : out_bf16 + first,
                                  mean + row, rstd + row, row_values, partial_sum, weight, bias,
                                  c, eps);
  }
}

// One block per row: d_sum from the layer norm's row code, then both of its consumers.
__global__ void dropout_residual_layernorm_backward_kernel(float* dx, float* dresidual,
                                                           const float* dout, const float* sum,
                                                           const float* weight, const float* mean,
                                                           const float* rstd, int64_t n, int64_t c,
                                                           RowDropout dropout) {
  CLOZE_BLOCK_ROW_LOOP(row, n) {
    const int64_t first = row * c;
    layernorm_rows::input_grad_row(
        dout + first, sum + first, weight, mean[row], rstd[row], c, [&](int64_t i, float d_sum) {
          const int64_t k = first + i;
          dresidual[k] += d_sum;
          dx[k] = layernorm_rows::dropout_grad(d_sum, dropout,
                                               dropout.keeps(static_cast<uint64_t>(k)));
        });
  }
}

}  // namespace

DeviceStatus dropout_residual_layernorm_forward(float* out, Bf16* out_bf16, float* sum,
                                                float* mean, float* rstd, const float* x,
                                                const float* residual, const float* weight,
                                                const float* bias, int64_t n, int64_t c,
                                                float eps, const DropoutSpec& dropout) {
  if (n <= 0 || c <= 0) return {};  // a grid of zero blocks is a launch error
  if (c > kResidualLayernormMaxColumns) {
    return {"dropout_residual_layernorm_forward: row width " + std::to_string(c) +
            " exceeds " + std::to_string(kResidualLayernormMaxColumns) +
            " (the row is kept in shared memory)"};
  }
  if (out == sum) {
    return {"dropout_residual_layernorm_forward: out must not alias sum (backward reads sum)"};
  }
  const size_t shared_bytes = static_cast<size_t>(c) * sizeof(float);
  dropout_residual_layernorm_forward_kernel<<<row_grid_for(n), kRowThreads, shared_bytes>>>(
      out, reinterpret_cast<__nv_bfloat16*>(out_bf16), sum, mean, rstd, x, residual, weight, bias,
      n, c, eps, layernorm_rows::row_dropout(dropout));
  return {};
}

DeviceStatus dropout_residual_layernorm_backward(float* dx, float* dresidual, float* dweight,
                                                 float* dbias, const float* dout,
                                                 const float* sum, const float* weight,
                                                 const float* mean, const float* rstd, int64_t n,
                                                 int64_t c, const DropoutSpec& dropout) {
  if (n <= 0 || c <= 0) return {};
  if (dx == dresidual) {
    return {"dropout_residual_layernorm_backward: dx must not alias dresidual (dx is "
            "overwritten, dresidual added to)"};
  }
  dropout_residual_layernorm_backward_kernel<<<row_grid_for(n), kRowThreads>>>(
      dx, dresidual, dout, sum, weight, mean, rstd, n, c, layernorm_rows::row_dropout(dropout));
  layernorm_backward_params(dweight, dbias, dout, sum, mean, rstd, n, c);
  return {};
}

}  // namespace cloze::cuda
