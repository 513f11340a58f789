#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/attention.h"
#include "kernels/cuda/blas_handles.cuh"

namespace cloze::cuda {
namespace {

// The CPU's row-major product, for `batch` matrices `stride_*` floats apart:
//   C (m, n) = alpha · op(A) · op(B) + beta · C, leading dimensions lda, ldb, ldc.
// cuBLAS is column-major, where a row-major matrix reads as its transpose, so it computes
// Cᵀ = op(B)ᵀ · op(A)ᵀ: the operands swap places and keep their transpose flags.
DeviceStatus gemm(BlasContext& context, bool trans_a, bool trans_b, int64_t m, int64_t n,
                  int64_t k, float alpha, const float* a, int64_t lda, int64_t stride_a,
                  const float* b, int64_t ldb, int64_t stride_b, float beta, float* c,
                  int64_t ldc, int64_t stride_c, int64_t batch) {
  return check_cublas(
      cublasSgemmStridedBatched(context.handles().blas, trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                                trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(n),
                                static_cast<int>(m), static_cast<int>(k), &alpha, b,
                                static_cast<int>(ldb), stride_b, a, static_cast<int>(lda),
                                stride_a, &beta, c, static_cast<int>(ldc), stride_c,
                                static_cast<int>(batch)),
      "cublasSgemmStridedBatched");
}

// Where one sequence's tensors start, and the strides between its heads.
struct SequenceView {
  int64_t t, d, c, c3, tt;  // sequence, head dim, hidden, qkv row stride, T·T
  int64_t heads;
  int64_t qkv_offset(int64_t b) const { return b * t * c3; }  // Q of head 0; K +c, V +2c
  int64_t out_offset(int64_t b) const { return b * t * c; }
  int64_t probs_offset(int64_t b) const { return b * heads * tt; }
};

SequenceView view_of(const AttentionShape& s) {
  return {s.seq, s.head_dim(), s.hidden, 3 * s.hidden, s.seq * s.seq, s.heads};
}

DeviceStatus zero(float* p, int64_t n) {
  const cudaError_t code = cudaMemsetAsync(p, 0, n * sizeof(float), /*stream=*/0);
  if (code == cudaSuccess) return {};
  return {std::string("cudaMemsetAsync: ") + cudaGetErrorName(code)};
}

bool empty(const AttentionShape& s) {
  return s.batch <= 0 || s.seq <= 0 || s.hidden <= 0 || s.heads <= 0;
}

}  // namespace

DeviceStatus attention_forward(BlasContext& context, float* out, float* probs, const float* qkv,
                               const int32_t* key_mask, const AttentionShape& shape,
                               const DropoutSpec& dropout, float* scratch) {
  if (empty(shape)) return {};
  const SequenceView v = view_of(shape);
  const float scale = 1.0f / std::sqrt(float(v.d));  // the CPU's T(1) / sqrt(T(D))
  const int64_t all_probs = shape.batch * v.heads * v.tt;
  // scores (T, T) = scale · Q (T, D) · Kᵀ per head, written straight into probs.
  for (int64_t b = 0; b < shape.batch; ++b) {
    const float* q = qkv + v.qkv_offset(b);
    CLOZE_RETURN_IF_DEVICE_ERROR(gemm(context, false, true, v.t, v.t, v.d, scale, q, v.c3, v.d,
                               q + v.c, v.c3, v.d, 0.0f, probs + v.probs_offset(b), v.t, v.tt,
                               v.heads));
  }
  masked_softmax_forward_grouped(probs, probs, key_mask, shape.batch * v.heads * v.t, v.t,
                                 v.heads * v.t);
  const float* dropped = probs;
  if (dropout.active()) {
    dropout_forward(scratch, probs, all_probs, dropout);
    dropped = scratch;
  }
  // out (T, D) = dropped probs (T, T) · V (T, D) per head.
  for (int64_t b = 0; b < shape.batch; ++b) {
    CLOZE_RETURN_IF_DEVICE_ERROR(gemm(context, false, false, v.t, v.d, v.t, 1.0f,
                               dropped + v.probs_offset(b), v.t, v.tt,
                               qkv + v.qkv_offset(b) + 2 * v.c, v.c3, v.d, 0.0f,
                               out + v.out_offset(b), v.c, v.d, v.heads));
  }
  return {};
}

DeviceStatus attention_backward(BlasContext& context, float* dqkv, const float* dout,
                                const float* qkv, const float* probs,
                                const AttentionShape& shape, const DropoutSpec& dropout,
                                float* scratch) {
  if (empty(shape)) return {};
  const SequenceView v = view_of(shape);
  const float scale = 1.0f / std::sqrt(float(v.d));
  const int64_t all_probs = shape.batch * v.heads * v.tt;
  float* first = scratch;                // d(dropped probs), later dscores or dprobs
  float* second = scratch + all_probs;   // dropped probs, later dprobs or dscores

  const float* dropped = probs;
  if (dropout.active()) {
    dropout_forward(second, probs, all_probs, dropout);
    dropped = second;
  }
  for (int64_t b = 0; b < shape.batch; ++b) {
    const float* g = dout + v.out_offset(b);
    const float* value = qkv + v.qkv_offset(b) + 2 * v.c;
    // d(dropped) (T, T) = dout (T, D) · Vᵀ
    CLOZE_RETURN_IF_DEVICE_ERROR(gemm(context, false, true, v.t, v.t, v.d, 1.0f, g, v.c, v.d, value,
                               v.c3, v.d, 0.0f, first + v.probs_offset(b), v.t, v.tt, v.heads));
    // dV (T, D) += droppedᵀ · dout
    CLOZE_RETURN_IF_DEVICE_ERROR(gemm(context, true, false, v.t, v.d, v.t, 1.0f,
                               dropped + v.probs_offset(b), v.t, v.tt, g, v.c, v.d, 1.0f,
                               dqkv + v.qkv_offset(b) + 2 * v.c, v.c3, v.d, v.heads));
  }
  // dprobs = dropout backward of d(dropped); dscores = softmax backward of dprobs. Each
  // accumulates into zeros, as the CPU's scratch does.
  const float* dprobs = first;
  float* dscores = second;
  if (dropout.active()) {
    CLOZE_RETURN_IF_DEVICE_ERROR(zero(second, all_probs));
    dropout_backward(second, first, all_probs, dropout);
    dprobs = second;
    dscores = first;
  }
  CLOZE_RETURN_IF_DEVICE_ERROR(zero(dscores, all_probs));
  masked_softmax_backward(dscores, dprobs, probs, shape.batch * v.heads * v.t, v.t);
  for (int64_t b = 0; b < shape.batch; ++b) {
    const float* q = qkv + v.qkv_offset(b);
    const float* ds = dscores + v.probs_offset(b);
    float* dq = dqkv + v.qkv_offset(b);
    // dQ (T, D) += scale · dS · K;  dK (T, D) += scale · dSᵀ · Q
    CLOZE_RETURN_IF_DEVICE_ERROR(gemm(context, false, false, v.t, v.d, v.t, scale, ds, v.t, v.tt,
                               q + v.c, v.c3, v.d, 1.0f, dq, v.c3, v.d, v.heads));
    CLOZE_RETURN_IF_DEVICE_ERROR(gemm(context, true, false, v.t, v.d, v.t, scale, ds, v.t, v.tt, q,
                               v.c3, v.d, 1.0f, dq + v.c, v.c3, v.d, v.heads));
  }
  return {};
}

}  // namespace cloze::cuda
