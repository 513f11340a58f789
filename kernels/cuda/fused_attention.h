// Fused ("flash-style") multi-head self-attention on the GPU, forward and backward, that
// never materialises the (B, NH, T, T) probabilities: a second implementation beside
// attention.h, with the same layout and results as cpu::attention_* (kernels/cpu/attention.h).
//
// On DEVICE pointers (B = batch, T = sequence length, C = hidden, NH = heads, D = C / NH):
//   qkv (B, T, 3C)    query, key, value side by side; head h reads columns [h·D, (h+1)·D)
//                     of each third.
//   key_mask (B, T)   1 for a real token, 0 for padding (probability 0).
//   out (B, T, C)     context vectors, heads concatenated.
//   lse (B, NH, T)    each query row's log-sum-exp of its scaled (1/√D, formed in float as
//                     the CPU forms it), masked scores: what backward needs instead of the
//                     probabilities. −inf for a row whose keys are all padding, whose
//                     probabilities are all 0 (out row 0, gradients 0), as on the CPU.
//   dqkv (B, T, 3C)   gradient of qkv.
// Dropout on the probabilities is the CPU's exactly: element ((b·NH + h)·T + i)·T + j of the
// site's Philox mask (first_index honoured), kept iff uniform >= p, kept values scaled by
// the float 1/(1 − p) formed on the host. So results match the CPU's up to float rounding.
//
// Forward overwrites out and lse. Backward ADDS into dqkv, from dout, qkv, key_mask and
// forward's out and lse (it recomputes the probabilities); it needs the mask, which the
// CPU's backward reads from its saved probabilities instead. Backward is deterministic (no
// atomics: each dQ row and each dK/dV row is summed by one thread in a fixed order).
// Inputs must not alias outputs. Calls enqueue work on the default stream; faults surface at
// the next device_synchronize(). Not thread-safe for one scratch buffer.
//
// Cost model. fp32 on CUDA cores, no tensor cores: a first, simple and checked version.
// Memory beyond the inputs and outputs: lse (B·NH·T floats) and, in backward, scratch of
// fused_attention_backward_scratch_floats(shape) floats (Δ_i = dout_i · out_i, one per row).
// Work: forward computes each score once: 4·T·T·D flops per head (Q·Kᵀ and P·V). Backward
// recomputes the scores in both of its kernels and forms dout·Vᵀ in both: about 14·T·T·D,
// 3.5x forward. With dropout on, one Philox block (10 rounds) per probability per kernel.
// Each thread keeps two to four D-float rows (q, acc, dq, ...) in registers, which spill
// to local memory (backward at D 64 too; ptxas reports up to ~5 KB per thread at D 128).
// Each (b, h) gets ⌈T/64⌉ blocks of 64 threads (so T ≤ kFusedAttentionMaxSeq); each block stages
// 32-row tiles of K and V (forward, dQ) or Q and dout (dK, dV) in shared memory, 16 KiB
// (D 64) or 32 KiB (D 128) per block. Made to be checked, not fast: the tensor-core
// version comes next.
//
// Head dims: D = 64 or 128 (compile-time specialisations; ALBERT and BERT use 64); any other
// D, C not divisible by NH, or T over kFusedAttentionMaxSeq returns an error naming it and
// launches nothing. An empty
// shape does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_FUSED_ATTENTION_H_
#define CLOZE_KERNELS_CUDA_FUSED_ATTENTION_H_

#include <cstdint>
#include <string>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cuda/device.h"

namespace cloze::cuda {

using cpu::AttentionShape;
using cpu::DropoutSpec;

// Floats of lse: B·NH·T.
inline int64_t fused_attention_lse_floats(const AttentionShape& shape) {
  return shape.batch * shape.heads * shape.seq;
}

// Floats of scratch fused_attention_backward uses freely (the Δ rows): B·NH·T.
inline int64_t fused_attention_backward_scratch_floats(const AttentionShape& shape) {
  return shape.batch * shape.heads * shape.seq;
}

// The longest sequence the grid covers: 65535 blocks of 64 query rows.
constexpr int64_t kFusedAttentionMaxSeq = int64_t{64} * 65535;

// "" when the fused kernels support this (non-empty) shape, else a sentence saying why:
// the error both ops return. Inline host code, so callers can choose a path without a GPU.
inline std::string fused_attention_shape_error(const AttentionShape& shape) {
  if (shape.heads <= 0 || shape.hidden % shape.heads != 0) {
    return "fused attention: hidden " + std::to_string(shape.hidden) +
           " is not divisible by heads " + std::to_string(shape.heads);
  }
  if (shape.seq > kFusedAttentionMaxSeq) {
    return "fused attention: sequence length " + std::to_string(shape.seq) + " exceeds " +
           std::to_string(kFusedAttentionMaxSeq) + " (one grid row of blocks per 64 rows)";
  }
  const int64_t d = shape.head_dim();
  if (d == 64 || d == 128) return "";
  return "fused attention supports head dim D 64 or 128, not D = " + std::to_string(d) +
         " (hidden " + std::to_string(shape.hidden) + " / heads " +
         std::to_string(shape.heads) + ")";
}

DeviceStatus fused_attention_forward(float* out, float* lse, const float* qkv,
                                     const int32_t* key_mask, const AttentionShape& shape,
                                     const DropoutSpec& dropout);

DeviceStatus fused_attention_backward(float* dqkv, const float* dout, const float* qkv,
                                      const float* out, const float* lse,
                                      const int32_t* key_mask, const AttentionShape& shape,
                                      const DropoutSpec& dropout, float* scratch);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_FUSED_ATTENTION_H_
