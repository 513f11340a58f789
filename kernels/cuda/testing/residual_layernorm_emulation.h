// The kernels of residual_layernorm.cu (and layernorm.cu's row kernels, which share their
// row code) replayed on the host: the same kRowThreads partial sums per row, combined in the
// same tree as reduce.cuh's block_sum, over layernorm_rows.h's element functions. In float it
// predicts the GPU's results bit for bit (no FMA on either side, IEEE division and square
// root); in double it checks the algorithm apart from float rounding. Header-only, for tests.
// Keep in step with layernorm_rows.cuh and residual_layernorm.cu.
#ifndef CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_EMULATION_H_
#define CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_EMULATION_H_

#include <array>
#include <cstdint>
#include <vector>

#include "kernels/cpu/dropout.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/layernorm_rows.h"

namespace cloze::cuda::testing {

using layernorm_rows::kRowThreads;

// reduce.cuh's warp_sum: five xor-butterfly steps, lane j adding lane j ^ offset's value.
// Every lane ends with the same bits (each step adds the same two values on both lanes).
template <typename T>
T EmulatedWarpSum(std::array<T, 32> lanes) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    std::array<T, 32> next;
    for (int j = 0; j < 32; ++j) next[j] = lanes[j] + lanes[j ^ offset];
    lanes = next;
  }
  return lanes[0];
}

// reduce.cuh's block_sum over kRowThreads per-thread values: each warp's sum, then the warp
// sums (identity 0 past the last warp) summed by one warp.
template <typename T>
T EmulatedBlockSum(const std::array<T, kRowThreads>& partials) {
  static_assert(kRowThreads % 32 == 0 && kRowThreads <= 1024);
  std::array<T, 32> warp_sums;
  warp_sums.fill(T(0));
  for (int w = 0; w < kRowThreads / 32; ++w) {
    std::array<T, 32> lanes;
    for (int j = 0; j < 32; ++j) lanes[j] = partials[w * 32 + j];
    warp_sums[w] = EmulatedWarpSum(lanes);
  }
  return EmulatedWarpSum(warp_sums);
}

// Thread t's partial sum of term(i) over its columns t, t + kRowThreads, ... in order,
// for every t, then block_sum: how each row kernel sums.
template <typename T, typename Term>
T EmulatedRowSum(int64_t c, Term term) {
  std::array<T, kRowThreads> partials;
  for (int t = 0; t < kRowThreads; ++t) {
    T partial = T(0);
    for (int64_t i = t; i < c; i += kRowThreads) partial += term(i);
    partials[t] = partial;
  }
  return EmulatedBlockSum(partials);
}

// dropout_residual_layernorm_forward; out_bf16 may be null (and is ignored for double).
template <typename T>
void EmulatedForward(T* out, Bf16* out_bf16, T* sum, T* mean, T* rstd, const T* x,
                     const T* residual, const T* weight, const T* bias, int64_t n, int64_t c,
                     T eps, const cpu::DropoutSpec& spec) {
  namespace rows = layernorm_rows;
  const rows::RowDropout dropout = rows::row_dropout(spec);
  for (int64_t row = 0; row < n; ++row) {
    const int64_t first = row * c;
    for (int64_t i = 0; i < c; ++i) {
      const int64_t k = first + i;
      sum[k] = rows::dropped_plus_residual(x[k], residual[k], dropout,
                                           dropout.keeps(static_cast<uint64_t>(k)));
    }
    const T* s_row = sum + first;
    const T m = rows::mean_of(EmulatedRowSum<T>(c, [&](int64_t i) { return s_row[i]; }), c);
    const T squares =
        EmulatedRowSum<T>(c, [&](int64_t i) { return rows::centered_square(s_row[i], m); });
    const T s = rows::rstd_of(squares, c, eps);
    for (int64_t i = 0; i < c; ++i) {
      out[first + i] = rows::normalized(s_row[i], m, s, weight[i], bias[i]);
      if constexpr (sizeof(T) == sizeof(float)) {
        if (out_bf16 != nullptr) out_bf16[first + i] = to_bf16(out[first + i]);
      }
    }
    mean[row] = m;
    rstd[row] = s;
  }
}

// dropout_residual_layernorm_backward: dx overwritten; dresidual, dweight, dbias added to.
template <typename T>
void EmulatedBackward(T* dx, T* dresidual, T* dweight, T* dbias, const T* dout, const T* sum,
                      const T* weight, const T* mean, const T* rstd, int64_t n, int64_t c,
                      const cpu::DropoutSpec& spec) {
  namespace rows = layernorm_rows;
  const rows::RowDropout dropout = rows::row_dropout(spec);
  for (int64_t row = 0; row < n; ++row) {
    const int64_t first = row * c;
    const T* dy = dout + first;
    const T* x = sum + first;
    const T m = mean[row], s = rstd[row];
    const T g_mean = rows::mean_of(
        EmulatedRowSum<T>(c, [&](int64_t i) { return rows::weighted_grad(dy[i], weight[i]); }),
        c);
    const T g_xhat_mean = rows::mean_of(EmulatedRowSum<T>(c,
                                                          [&](int64_t i) {
                                                            return rows::weighted_grad_xhat(
                                                                rows::weighted_grad(dy[i], weight[i]),
                                                                x[i], m, s);
                                                          }),
                                        c);
    for (int64_t i = 0; i < c; ++i) {
      const int64_t k = first + i;
      const T d_sum =
          rows::input_grad(rows::weighted_grad(dy[i], weight[i]), x[i], m, s, g_mean, g_xhat_mean);
      dresidual[k] += d_sum;
      dx[k] = rows::dropout_grad(d_sum, dropout, dropout.keeps(static_cast<uint64_t>(k)));
    }
  }
  // layernorm_backward_params: one thread per column, rows in order.
  for (int64_t i = 0; i < c; ++i) {
    T dw = T(0), db = T(0);
    for (int64_t row = 0; row < n; ++row) {
      const T dy = dout[row * c + i];
      dw += rows::weighted_grad_xhat(dy, sum[row * c + i], mean[row], rstd[row]);
      db += dy;
    }
    dweight[i] += dw;
    dbias[i] += db;
  }
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_EMULATION_H_
