// Multi-head self-attention with a key padding mask, and its masked softmax.
//
// Shapes (B = batch, T = sequence length, C = hidden size, NH = heads, D = C / NH):
//   qkv      (B, T, 3C)   query, key and value projections side by side; head h reads
//                         columns [h·D, (h+1)·D) of each third.
//   key_mask (B, T)       1 for a real token, 0 for padding: padded keys get probability 0.
//   probs    (B, NH, T, T) softmax(Q·Kᵀ/√D) over keys, saved by forward for backward
//                         (before dropout; the dropout mask is regenerated).
//   out      (B, T, C)    context vectors, heads concatenated.
// Dropout on the probabilities uses element index ((b·NH + h)·T + i)·T + j. Packed batches
// (AttentionShape::row_begin) hold only the real tokens, attention per example on its length.
//
// Forward overwrites out and probs. Backward ADDS into dqkv (B, T, 3C).
// attention_forward/backward (what the model runs) do the per-(batch, head) matrix
// products with BLAS; the *_reference versions do them with plain loops and share the
// rest (masking, softmax, dropout, layout), which the finite-difference tests check. At
// Precision::kBf16 the four float products take bf16 operands (bf16_gemm.h); the softmax,
// its gradient and the accumulation stay fp32. On a CPU with bf16 instructions that path is
// attention_bf16.h's (each operand converted once, the softmax vectorised).
#ifndef CLOZE_KERNELS_CPU_ATTENTION_H_
#define CLOZE_KERNELS_CPU_ATTENTION_H_

#include <cstdint>

#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cpu/dropout.h"

namespace cloze::cpu {

struct AttentionShape {
  int64_t batch = 0;
  int64_t seq = 0;  // T: the padded length, which also lays out the dropout masks
  int64_t hidden = 0;
  int64_t heads = 0;
  // The packed ("varlen") layout, CPU kernels only: when set, example b is the L_b =
  // row_begin[b + 1] − row_begin[b] (1 ≤ L_b ≤ T) rows from row_begin[b] of qkv and out, all
  // real tokens (its first L_b positions: key_mask stays (B, T), its row b's first L_b
  // entries 1); its probabilities (NH, L_b, L_b) follow example b − 1's. Attention runs on
  // each example's own length, and element (i, j) of head h still draws the dropout mask of
  // ((b·NH + h)·T + i)·T + j, so a packed batch drops what its padded twin drops. Null: the
  // padded layout (row b·T + t), as above.
  const int32_t* row_begin = nullptr;

  int64_t head_dim() const { return hidden / heads; }
  bool packed() const { return row_begin != nullptr; }
  int64_t length(int64_t b) const { return packed() ? row_begin[b + 1] - row_begin[b] : seq; }
  int64_t first_row(int64_t b) const { return packed() ? row_begin[b] : b * seq; }
  int64_t rows() const { return first_row(batch); }
  // Offset of example b's probabilities: b·NH·T² padded, NH·Σ_{b' < b} L_b'² packed.
  int64_t probs_first(int64_t b) const {
    if (!packed()) return b * heads * seq * seq;
    int64_t first = 0;
    for (int64_t i = 0; i < b; ++i) first += heads * length(i) * length(i);
    return first;
  }
};

// probs (rows, t) = softmax of scores (rows, t) over the t keys, with keys where
// key_mask[j] == 0 excluded (probability 0). A row with no real key is all zeros.
template <typename T>
void masked_softmax_forward(T* probs, const T* scores, const int32_t* key_mask, int64_t rows,
                            int64_t t);
// dscores (rows, t) += probs ⊙ (dprobs − Σ_j dprobs·probs), row by row.
template <typename T>
void masked_softmax_backward(T* dscores, const T* dprobs, const T* probs, int64_t rows, int64_t t);

// Dropout on one head's probabilities (t, t) as used by P·V: out = probs · mask / (1 − p),
// where row i's mask starts at element mask_first + i·mask_stride of the site's mask
// (mask_stride = T; a packed head of length t < T draws its padded twin's mask). Backward
// ADDS into dprobs. Serial (callers run it per head inside their parallel loops).
template <typename T>
void attention_dropout_forward(T* out, const T* probs, int64_t t, uint64_t mask_first, int64_t mask_stride,
                               const DropoutSpec& dropout);
template <typename T>
void attention_dropout_backward(T* dprobs, const T* dout, int64_t t, uint64_t mask_first, int64_t mask_stride,
                                const DropoutSpec& dropout);

template <typename T>
void attention_forward_reference(T* out, T* probs, const T* qkv, const int32_t* key_mask,
                                 const AttentionShape& shape, const DropoutSpec& dropout);
template <typename T>
void attention_backward_reference(T* dqkv, const T* dout, const T* qkv, const T* probs,
                                  const AttentionShape& shape, const DropoutSpec& dropout);

template <typename T>
void attention_forward(T* out, T* probs, const T* qkv, const int32_t* key_mask,
                       const AttentionShape& shape, const DropoutSpec& dropout,
                       Precision precision = Precision::kFp32);
template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* probs,
                        const AttentionShape& shape, const DropoutSpec& dropout,
                        Precision precision = Precision::kFp32);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_ATTENTION_H_
