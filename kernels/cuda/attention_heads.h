// Where each (sequence, head) slice of the attention tensors lives, and how the unfused
// attention (attention.h) lays out its scratch. Plain C++ that nvcc also compiles for the
// device (CLOZE_HOST_DEVICE), so the host test (attention_heads_test) checks the very
// formulas the pointer-table kernel runs.
//
// Why pointer tables: attention.cu runs each product as ONE cublasGemmBatchedEx over all
// B·NH heads. A head's Q/K/V slices are D apart within a row of qkv (B, T, 3C) and
// sequences T·3C apart, so no single stride covers (b, h) (strided-batched GEMMs need one).
// Rather than permuting qkv into head-major copies and back (llm.c's way: an extra read and
// write of qkv and out per pass, plus the kernels), a small kernel writes the B·NH slice
// addresses of every operand into scratch, and cuBLAS reads the slices where they are.
// Batch item i is (b, h) = (i / NH, i % NH), the order of probs (B, NH, T, T).
#ifndef CLOZE_KERNELS_CUDA_ATTENTION_HEADS_H_
#define CLOZE_KERNELS_CUDA_ATTENTION_HEADS_H_

#include <cstdint>

#include "kernels/cpu/attention.h"
#include "kernels/philox.h"  // CLOZE_HOST_DEVICE

namespace cloze::cuda {

// The (T, ·) row-major matrices of one tensor, one per (b, h), in ELEMENTS of the tensor:
// slice i starts at first + (i / heads)·seq_stride + (i % heads)·head_stride, and its rows
// are ld apart.
struct HeadSlices {
  int64_t first = 0;
  int64_t seq_stride = 0;
  int64_t head_stride = 0;
  int64_t ld = 0;
  int64_t heads = 1;

  CLOZE_HOST_DEVICE int64_t offset(int64_t i) const {
    return first + (i / heads) * seq_stride + (i % heads) * head_stride;
  }
};

// Q, K, V of qkv (B, T, 3C) (or of dqkv, or of a bf16 copy with the same layout): columns
// [h·D, (h+1)·D) of the first, second and third C of each row.
inline HeadSlices qkv_slices(const cpu::AttentionShape& s, int which /* 0 Q, 1 K, 2 V */) {
  return {which * s.hidden, s.seq * 3 * s.hidden, s.head_dim(), 3 * s.hidden, s.heads};
}
inline HeadSlices query_slices(const cpu::AttentionShape& s) { return qkv_slices(s, 0); }
inline HeadSlices key_slices(const cpu::AttentionShape& s) { return qkv_slices(s, 1); }
inline HeadSlices value_slices(const cpu::AttentionShape& s) { return qkv_slices(s, 2); }

// out / dout (B, T, C), heads concatenated: columns [h·D, (h+1)·D).
inline HeadSlices context_slices(const cpu::AttentionShape& s) {
  return {0, s.seq * s.hidden, s.head_dim(), s.hidden, s.heads};
}

// probs (B, NH, T, T) and the scratch tensors shaped like it: slice i is contiguous.
inline HeadSlices score_slices(const cpu::AttentionShape& s) {
  return {0, s.heads * s.seq * s.seq, s.seq * s.seq, s.seq, s.heads};
}

// cuBLAS is column-major, where a row-major matrix reads as its transpose: the row-major
// C (m, n) = op(A) · op(B) is asked for as Cᵀ (n, m) = op(B)ᵀ · op(A)ᵀ, so B is cuBLAS's
// first operand and A its second, each keeping its transpose flag; leading dimensions stay.
struct ColumnMajorGemm {
  bool trans_first, trans_second;  // cuBLAS's transa, transb
  int64_t m, n, k;                 // cuBLAS's m, n, k
};
inline ColumnMajorGemm column_major_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n,
                                         int64_t k) {
  return {trans_b, trans_a, n, m, k};
}

// The most pointer tables one call builds (backward: dout, V, d(dropped), dropped, dV,
// dscores, K, dQ, Q, dK), each B·NH pointers.
constexpr int kMaxHeadTables = 10;

// Scratch regions, as offsets in floats from the scratch pointer. Every region starts on a
// 256-byte boundary (64 floats) given a 256-byte aligned scratch (cudaMalloc's), so the
// pointer tables are 8-byte aligned and the bf16 operands 16-byte aligned, which cuBLAS
// needs for its fastest kernels. The bf16 regions are empty (size 0) for fp32.
struct AttentionScratchLayout {
  int64_t first = 0;         // fp32, B·NH·T·T: forward's dropped probs; backward's chain
  int64_t second = 0;        // fp32, B·NH·T·T: backward's chain
  int64_t tables = 0;        // kMaxHeadTables · B·NH device pointers
  int64_t qkv_bf16 = 0;      // bf16, B·T·3C: Q, K, V rounded
  int64_t context_bf16 = 0;  // bf16, B·T·C: dout rounded (backward)
  int64_t probs_bf16 = 0;    // bf16, B·NH·T·T: dropped probs, later dscores, rounded
  int64_t total = 0;         // floats in all
};

constexpr int64_t kScratchAlignFloats = 64;

inline int64_t align_scratch(int64_t floats) {
  return (floats + kScratchAlignFloats - 1) / kScratchAlignFloats * kScratchAlignFloats;
}

inline AttentionScratchLayout attention_scratch_layout(const cpu::AttentionShape& s, bool bf16) {
  const int64_t heads = s.batch * s.heads;
  const int64_t probs = heads * s.seq * s.seq;
  const int64_t tokens = s.batch * s.seq;
  auto bf16_floats = [](int64_t n) { return (n + 1) / 2; };
  AttentionScratchLayout l;
  int64_t at = 0;
  auto take = [&at](int64_t floats) {
    const int64_t start = at;
    at = align_scratch(at + floats);
    return start;
  };
  l.first = take(probs);
  l.second = take(probs);
  l.tables = take(kMaxHeadTables * heads * int64_t(sizeof(void*) / sizeof(float)));
  l.qkv_bf16 = take(bf16 ? bf16_floats(tokens * 3 * s.hidden) : 0);
  l.context_bf16 = take(bf16 ? bf16_floats(tokens * s.hidden) : 0);
  l.probs_bf16 = take(bf16 ? bf16_floats(probs) : 0);
  l.total = at;
  return l;
}

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_ATTENTION_HEADS_H_
