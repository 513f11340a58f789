// The tail of a post-LN encoder sublayer fused into one pass per row on the GPU:
//   sum = dropout(x) + residual,   out = layernorm(sum)
// where x is the sublayer's dense output. Its twin is the composition of CPU ops
// cpu::dropout_forward, cpu::residual_forward, cpu::layernorm_forward (and, backward,
// cpu::layernorm_backward into a zeroed d_sum, cpu::accumulate, cpu::dropout_backward into a
// zeroed dx); on the GPU it replaces the same sequence of cuda:: ops.
//
// On DEVICE pointers. Shapes: x, residual, sum, out, out_bf16, dx, dresidual, dout (n, c);
// weight, bias, dweight, dbias (c); mean, rstd (n).
// Dropout is cuda::dropout_forward's on the flat (n, c) tensor: element row·c + i is element
// dropout.first_index + row·c + i of the site's Philox mask, kept iff uniform >= p, kept
// values scaled by the float 1 / (1 − p) formed on the host; p = 0 means none.
//
// Forward OVERWRITES sum (kept for backward), out, out_bf16 when given (out rounded to bf16,
// nearest even: the next matmul's input, saving a conversion pass), mean and rstd (as
// layernorm_forward). sum may alias x or residual (the model drops out in place); out may
// alias x or residual but not sum; nothing else may alias.
// Backward, from forward's sum, mean and rstd:
//   d_sum = layernorm's input gradient of dout,
//   dresidual += d_sum            (ADDED: the residual branch joins other gradients),
//   dx         = d_sum·mask/(1−p) (OVERWRITTEN: the dense layer's output gradient has no
//                                  other source, so the caller need not zero it),
//   dweight, dbias += the column sums of layernorm_backward (layernorm_backward_params:
//                     one thread per column, rows in order; no scratch, deterministic).
// dx, dresidual, dweight and dbias must not alias each other or any input.
//
// Results. Every element-wise step rounds as the CPU's (layernorm_rows.h: no FMA), so sum is
// the CPU composition's bit for bit; mean, rstd, out and d_sum differ from the CPU only by the
// order of the row sums (a block tree here, a loop there), a few ulp. Against the unfused GPU
// sequence (dropout_forward in place, residual_forward, layernorm_forward, float_to_bf16;
// layernorm_backward into zeros, accumulate, dropout_backward into zeros), which shares the
// row code (layernorm_rows.cuh), every output is equal bit for bit, up to the sign of a zero
// (the unfused 0 + (−0) gives +0). Run to run, results are deterministic.
//
// Cost. One block of layernorm_rows::kRowThreads threads per row (rows beyond 65535 loop).
// Forward reads x and residual once, keeps the row in shared memory (c floats) and writes
// sum, out and out_bf16 once: the unfused sequence's four launches and about three extra
// passes over (n, c) become one. Backward re-reads dout, sum and weight (read-only, cached)
// and writes dresidual and dx once, then the column-sum kernel reads dout and sum again.
// Dropout draws one Philox block per element in each direction, as dropout_forward does.
//
// Errors: forward with c > kResidualLayernormMaxColumns (its row must fit in shared memory)
// or out == sum, and backward with dx == dresidual, return an error and launch nothing.
// n <= 0 or c <= 0 does nothing. Otherwise calls only enqueue work on the default stream; a bad launch or a fault
// inside a kernel is reported by the next device_synchronize() (device.h). Thread-compatible.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_RESIDUAL_LAYERNORM_H_
#define CLOZE_KERNELS_CUDA_RESIDUAL_LAYERNORM_H_

#include <cstdint>

#include "kernels/cpu/dropout.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/device.h"

namespace cloze::cuda {

using cpu::DropoutSpec;

// The widest row forward keeps in shared memory: 32 KiB of the 48 KiB a block may have
// without opting in (ALBERT-xxlarge's hidden size is 4096).
constexpr int64_t kResidualLayernormMaxColumns = 8192;

DeviceStatus dropout_residual_layernorm_forward(float* out, Bf16* out_bf16, float* sum,
                                                float* mean, float* rstd, const float* x,
                                                const float* residual, const float* weight,
                                                const float* bias, int64_t n, int64_t c,
                                                float eps, const DropoutSpec& dropout);

DeviceStatus dropout_residual_layernorm_backward(float* dx, float* dresidual, float* dweight,
                                                 float* dbias, const float* dout,
                                                 const float* sum, const float* weight,
                                                 const float* mean, const float* rstd, int64_t n,
                                                 int64_t c, const DropoutSpec& dropout);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_RESIDUAL_LAYERNORM_H_
