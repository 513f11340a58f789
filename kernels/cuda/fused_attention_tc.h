// Fused ("flash-style") multi-head self-attention on tensor cores, for bf16 precision
// (GpuPrecision::kBf16: bf16 matrix-product inputs, fp32 accumulation): the twin of
// fused_attention.h's fp32 ops, with the same layout, lse, key mask, dropout (element
// ((b·NH + h)·T + i)·T + j of the CPU's Philox mask, first_index honoured, kept scaled by
// the host-formed float 1/(1 − p)), ADD semantics and determinism. See fused_attention.h for
// the tensors (qkv, key_mask, out, lse, dqkv, all fp32 on DEVICE pointers).
//
// Precision. The inputs stay fp32 (the model stores fp32 activations); the kernels round
// to bf16 (nearest even) exactly these matrix-product operands as they stage them into
// shared memory: Q, K, V, dout; forward's unnormalised probabilities keep·exp(s − max)
// (for P·V); backward's keep·P/(1 − p) (for dV) and dS = P ⊙ (dP − Δ) (for dQ and dK).
// Products accumulate in fp32 (WMMA m16n16k16, bf16 × bf16 → fp32); the softmax (max, sum,
// exp, log, scale 1/√D), Δ = dout·out, the running output and out, lse, dqkv are fp32. So
// results are those of the CPU twin up to bf16 operand rounding: errors of at most 3.2e-3
// of each tensor's RMS in the host emulation's cases (fused_attention_tc_emulation_test.cc).
//
// Forward overwrites out and lse; backward ADDS into dqkv from dout, qkv, key_mask, out and
// lse, with scratch of fused_attention_backward_scratch_floats(shape) floats (Δ). Backward
// is deterministic: no atomics; each dQ row is summed by the block owning its query, each
// dK/dV row by the block owning its key, in a fixed tile order. Inputs must not alias
// outputs. Work is enqueued on the default stream; faults surface at the next
// device_synchronize(). Not thread-safe for one scratch buffer.
//
// Kernels. Each (b, h) gets ⌈T/64⌉ blocks of 128 threads (4 warps × 16 rows); a block owns
// 64 query rows (forward, dQ) or 64 key rows (dK/dV) and walks the other side in tiles of
// 64, padding the last tile with masked keys or ignored rows (any T ≥ 1 up to
// kFusedAttentionMaxSeq). Dynamic shared memory per block (fused_attention_tc_layout.h;
// the CPU test pins these numbers):
//                  D = 64      D = 128
//   forward        72,704 B    113,664 B
//   dQ             81,664 B    114,432 B
//   dK/dV          90,880 B    123,648 B
// all over the 48 KiB default, so the launch opts in (cudaFuncSetAttribute); within sm_80's
// 163 KiB and sm_90's 227 KiB. A GPU offering less (e.g. sm_86's 99 KiB at D 128) gets
// the CUDA error back as the DeviceStatus, and nothing is launched.
// Work: forward 4·T²·D flops per head on tensor cores; backward recomputes S and dout·Vᵀ in
// both of its kernels: 14·T²·D, 3.5x forward, plus one Philox block per probability per
// kernel when dropout is on. A first tensor-core version, made to be checked: the softmax
// and gradient element phases run on CUDA cores from shared memory (one thread per row in
// forward's softmax), dK/dV keep 2·D/16 accumulator fragments per warp (255 registers at
// D 128, a few bytes spilled), and the launch sets the shared-memory attribute every call.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_H_
#define CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_H_

#include <cstdint>
#include <string>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/fused_attention.h"

namespace cloze::cuda {

// "" when the bf16 fused kernels support this (non-empty) shape, else the sentence both ops
// return: the fp32 kernels' limits (D 64 or 128, C divisible by NH, T up to
// kFusedAttentionMaxSeq, one grid row of 64-row blocks). Inline host code: callers can
// choose a path without a GPU. The device's shared memory is checked at launch instead.
inline std::string fused_attention_bf16_shape_error(const AttentionShape& shape) {
  return fused_attention_shape_error(shape);
}

// out (B, T, C) and lse (B·NH·T floats, fused_attention_lse_floats) overwritten.
DeviceStatus fused_attention_forward_bf16(float* out, float* lse, const float* qkv,
                                          const int32_t* key_mask, const AttentionShape& shape,
                                          const DropoutSpec& dropout);

// dqkv (B, T, 3C) += the gradient; scratch: fused_attention_backward_scratch_floats(shape).
DeviceStatus fused_attention_backward_bf16(float* dqkv, const float* dout, const float* qkv,
                                           const float* out, const float* lse,
                                           const int32_t* key_mask, const AttentionShape& shape,
                                           const DropoutSpec& dropout, float* scratch);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_H_
