// Multi-head self-attention on the GPU: the CUDA twins of kernels/cpu/attention.h, in fp32.
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
// Implementation: cuBLAS strided-batched GEMMs over the heads of one sequence (one call per
// sequence and product, since a head's slices are D apart within a row and sequences
// T·3C apart), a block-per-row masked softmax, and dropout as its own kernel. Beyond the
// CPU signature the ops take the BlasContext (cuBLAS handle) and `scratch`, a device buffer
// of attention_scratch_floats(shape) floats that the call uses freely (the dropped
// probabilities; backward's gradients of the probabilities and scores), because device
// code cannot allocate per head as the CPU does. Calls enqueue work on the default stream
// and return an error when cuBLAS rejects a call; faults surface at the next
// device_synchronize(). Not thread-safe for one context or scratch buffer.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_ATTENTION_H_
#define CLOZE_KERNELS_CUDA_ATTENTION_H_

#include <cstdint>

#include "kernels/cpu/attention.h"
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

// Floats of scratch the attention ops need: 2·B·NH·T·T.
inline int64_t attention_scratch_floats(const AttentionShape& shape) {
  return 2 * shape.batch * shape.heads * shape.seq * shape.seq;
}

DeviceStatus attention_forward(BlasContext& context, float* out, float* probs, const float* qkv,
                               const int32_t* key_mask, const AttentionShape& shape,
                               const DropoutSpec& dropout, float* scratch);
DeviceStatus attention_backward(BlasContext& context, float* dqkv, const float* dout,
                                const float* qkv, const float* probs,
                                const AttentionShape& shape, const DropoutSpec& dropout,
                                float* scratch);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_ATTENTION_H_
