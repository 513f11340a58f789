// Element-wise work of the encoder fused into single passes, for its bf16 path. The fp32
// path keeps the separate ops (activations.h, dropout.h, residual.h, layernorm.h, matmul.h's
// bias_backward): they are the oracle these are tested against (fused_test).
//
// The activation passes run 16 lanes wide with FMA where the CPU has AVX-512 (the build
// targets plain x86-64), so they round slightly differently from the separate ops; the
// dropout + residual + layer norm passes compute exactly what the separate ops do, in one
// pass over memory instead of three. Column sums (bias, layer-norm gradients) add rows in
// order within blocks of columns, so no result depends on the thread count.
//
// Float only; pointers must not alias unless a contract says so.
#ifndef CLOZE_KERNELS_CPU_FUSED_H_
#define CLOZE_KERNELS_CPU_FUSED_H_

#include <cstdint>

#include "kernels/cpu/activations.h"
#include "kernels/cpu/dropout.h"

namespace cloze::cpu {

// out (n) = act(inp): activation_forward's contract (the bias before it is added in the
// product's epilogue, bf16_weights.h). out may alias inp.
void activation_forward_fused(Activation act, float* out, const float* inp, int64_t n);

// The activation's backward and the bias gradient of the product before it, in one pass:
// with d = dout ⊙ act'(inp) (all (n, c)), dinp += d and dbias (c) += column sums of d.
void activation_bias_backward(Activation act, float* dinp, float* dbias, const float* inp, const float* dout,
                              int64_t n, int64_t c);

// sum (n, c) = residual + dropout(x), then out = layernorm(sum) with mean and rstd (n) as
// layernorm_forward writes them; x may alias sum. Equals dropout_forward, residual_forward
// and layernorm_forward in turn, bit for bit.
void dropout_residual_layernorm_forward(float* out, float* mean, float* rstd, float* sum, const float* x,
                                        const float* residual, const float* weight, const float* bias, int64_t n,
                                        int64_t c, float eps, const DropoutSpec& dropout);

// Its backward: with d_sum = layernorm_backward of dout (which adds into dweight and
// dbias), d_residual += d_sum and d_x += dropout_backward(d_sum). Equals those ops in turn
// (layernorm_backward into a zeroed d_sum, accumulate, dropout_backward), bit for bit.
void dropout_residual_layernorm_backward(float* d_x, float* d_residual, float* dweight, float* dbias,
                                         const float* dout, const float* sum, const float* weight, const float* mean,
                                         const float* rstd, int64_t n, int64_t c, const DropoutSpec& dropout);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_FUSED_H_
