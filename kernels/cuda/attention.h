// Multi-head self-attention on the GPU: the CUDA twins of kernels/cpu/attention.h, in fp32,
// and a variant whose matrix products take bf16 operands.
//
// The CPU's layout exactly (B = batch, T = sequence length, C = hidden, NH = heads,
// D = C / NH), on DEVICE pointers:
//   qkv (B, T, 3C)  query, key, value side by side; head h reads columns [h·D, (h+1)·D)
//                   of each third.
//   key_mask (B, T) 1 for a real token, 0 for padding (probability 0).
//   probs (B, NH, T, T) softmax(Q·Kᵀ/√D), saved by forward for backward, before dropout;
//                   dropout on them uses element index ((b·NH + h)·T + i)·T + j, i.e. the
//                   flat index, with the CPU's Philox mask (dropout.h), bitwise the same.
//   out (B, T, C)   context vectors, heads concatenated.
// Forward overwrites out and probs; backward ADDS into dqkv (B, T, 3C).
//
// Implementation: each of the products (forward 2, backward 4) is ONE cublasGemmBatchedEx
// over all B·NH heads, on per-(b, h) pointer tables that a small kernel writes into scratch
// (attention_heads.h says why tables rather than head-major copies), plus a block-per-row
// masked softmax and dropout as its own kernel. Beyond the CPU signature the ops take the
// BlasContext (cuBLAS handle) and `scratch`, a device buffer of at least
// attention_scratch_floats(shape) floats (attention_bf16_scratch_floats for the bf16 ops),
// 256-byte aligned (as cudaMalloc returns), that the call uses freely (the pointer tables,
// the dropped probabilities, backward's gradients of the probabilities and scores, the bf16
// operands), because device code cannot allocate per head as the CPU does. Calls enqueue
// work on the default stream and return an error when cuBLAS rejects a call; faults surface
// at the next device_synchronize(). Not thread-safe for one context or scratch buffer.
// Buffers must not alias each other or the scratch.
//
// fp32 (attention_forward/backward): CUBLAS_COMPUTE_32F_PEDANTIC, no TF32, so results are
// the CPU's within float rounding.
//
// bf16 (attention_forward_bf16/backward_bf16, for GpuPrecision::kBf16): the same API, fp32
// in and out, but every product takes bf16 operands (round to nearest even, in scratch)
// and accumulates in fp32 (CUBLAS_COMPUTE_32F) into fp32 results. Rounded to bf16: Q, K, V;
// the probabilities AFTER dropout (the operand of out = P·V and dV = Pᵀ·dout); dout; and
// dscores (the operand of dQ and dK). Not rounded: the scores, the softmax and its
// backward, dropout and its backward, d(dropped probs) and dprobs (all fp32), and the
// saved probs (fp32: the fp32 softmax of scores formed from the rounded Q and K).
// Expect a relative RMS error of 1e-3 to 5e-3 per tensor (bf16 has an 8-bit significand;
// measured by attention_heads_test's host replay), worst elements a few 1e-2 of the RMS.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_ATTENTION_H_
#define CLOZE_KERNELS_CUDA_ATTENTION_H_

#include <cstdint>

#include "kernels/cpu/attention.h"
#include "kernels/cuda/attention_heads.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/dropout.h"

namespace cloze::cuda {

using cpu::AttentionShape;

// The CPU's masked softmax, one block per row: probs (rows, t) = softmax of scores over the
// keys with key_mask[j] != 0 (probability 0 elsewhere; a row with no real key is all
// zeros). probs may alias scores. Backward: dscores (rows, t) += probs ⊙ (dprobs − Σ_j
// dprobs·probs); dscores must not alias the inputs.
void masked_softmax_forward(float* probs, const float* scores, const int32_t* key_mask,
                            int64_t rows, int64_t t);
void masked_softmax_backward(float* dscores, const float* dprobs, const float* probs,
                             int64_t rows, int64_t t);

// The same forward with one mask per group of `rows_per_mask` consecutive rows: row r uses
// key_mask + (r / rows_per_mask)·t (attention: the NH·T rows of one sequence share its mask).
void masked_softmax_forward_grouped(float* probs, const float* scores, const int32_t* key_mask,
                                    int64_t rows, int64_t t, int64_t rows_per_mask);

// Floats of scratch the fp32 ops need: 2·B·NH·T·T for the probability-shaped buffers, plus
// 10·B·NH pointers (the tables) and alignment; the bf16 ops also hold bf16 copies of qkv,
// dout and the probabilities. The layout is attention_heads.h's attention_scratch_layout.
inline int64_t attention_scratch_floats(const AttentionShape& shape) {
  return attention_scratch_layout(shape, /*bf16=*/false).total;
}
inline int64_t attention_bf16_scratch_floats(const AttentionShape& shape) {
  return attention_scratch_layout(shape, /*bf16=*/true).total;
}

DeviceStatus attention_forward(BlasContext& context, float* out, float* probs, const float* qkv,
                               const int32_t* key_mask, const AttentionShape& shape,
                               const DropoutSpec& dropout, float* scratch);
DeviceStatus attention_backward(BlasContext& context, float* dqkv, const float* dout,
                                const float* qkv, const float* probs,
                                const AttentionShape& shape, const DropoutSpec& dropout,
                                float* scratch);

// The bf16-operand variants (see above); scratch of attention_bf16_scratch_floats(shape).
DeviceStatus attention_forward_bf16(BlasContext& context, float* out, float* probs,
                                    const float* qkv, const int32_t* key_mask,
                                    const AttentionShape& shape, const DropoutSpec& dropout,
                                    float* scratch);
DeviceStatus attention_backward_bf16(BlasContext& context, float* dqkv, const float* dout,
                                     const float* qkv, const float* probs,
                                     const AttentionShape& shape, const DropoutSpec& dropout,
                                     float* scratch);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_ATTENTION_H_
