#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/attention.h"
#include "kernels/cuda/attention_heads.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/blas_handles.cuh"
#include "kernels/cuda/launch.cuh"

namespace cloze::cuda {
namespace {

// How the products see their operands: fp32 with strict fp32 arithmetic (the CPU's results
// within float rounding), or bf16 with fp32 accumulation. Results are always fp32.
struct Operands {
  bool bf16;
  cudaDataType type() const { return bf16 ? CUDA_R_16BF : CUDA_R_32F; }
  int64_t bytes() const { return bf16 ? 2 : 4; }
  // The explicit compute type decides the arithmetic whatever the handle's math mode:
  // _PEDANTIC forbids TF32 for fp32; bf16 operands may use the tensor cores.
  cublasComputeType_t compute() const {
    return bf16 ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_PEDANTIC;
  }
};

// One table to build: the B·NH slice addresses of a tensor at `base` whose elements are
// `bytes` wide.
struct TableSpec {
  const char* base;
  HeadSlices slices;
  int64_t bytes;
};

struct TableSpecs {
  TableSpec spec[kMaxHeadTables];
  int count = 0;
};

// tables[t·batch_heads + i] = address of slice i of spec t (attention_heads.h's formula).
__global__ void build_tables_kernel(const void** tables, TableSpecs specs, int64_t batch_heads) {
  CLOZE_GRID_STRIDE_LOOP(n, specs.count * batch_heads) {
    const TableSpec& s = specs.spec[n / batch_heads];
    tables[n] = s.base + s.slices.offset(n % batch_heads) * s.bytes;
  }
}

// The tables of one call, built by one launch into scratch.
class HeadTables {
 public:
  HeadTables(float* scratch, const AttentionScratchLayout& layout, int64_t batch_heads)
      : tables_(reinterpret_cast<const void**>(scratch + layout.tables)),
        batch_heads_(batch_heads) {}

  // Returns the table's device address; valid once build() has been enqueued.
  const void* const* add(const void* base, const HeadSlices& slices, int64_t bytes) {
    specs_.spec[specs_.count] = {static_cast<const char*>(base), slices, bytes};
    return tables_ + specs_.count++ * batch_heads_;
  }
  void build() {
    const int64_t n = specs_.count * batch_heads_;
    if (n > 0) build_tables_kernel<<<grid_for(n), kThreads>>>(tables_, specs_, batch_heads_);
  }

 private:
  const void** tables_;
  int64_t batch_heads_;
  TableSpecs specs_;
};

// The CPU's row-major product for every head at once: C_i (m, n) = alpha · op(A_i) · op(B_i)
// + beta · C_i, asked of cuBLAS as column_major_gemm says. A and B have the operands'
// type, C is fp32.
DeviceStatus batched_gemm(BlasContext& context, const Operands& ops, bool trans_a, bool trans_b,
                          int64_t m, int64_t n, int64_t k, float alpha, const void* const* a,
                          int64_t lda, const void* const* b, int64_t ldb, float beta,
                          const void* const* c, int64_t ldc, int64_t batch) {
  const ColumnMajorGemm g = column_major_gemm(trans_a, trans_b, m, n, k);
  return check_cublas(
      cublasGemmBatchedEx(context.handles().blas, g.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N,
                          g.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(g.m),
                          static_cast<int>(g.n), static_cast<int>(g.k), &alpha, b, ops.type(),
                          static_cast<int>(ldb), a, ops.type(), static_cast<int>(lda), &beta,
                          const_cast<void* const*>(c), CUDA_R_32F, static_cast<int>(ldc),
                          static_cast<int>(batch), ops.compute(), CUBLAS_GEMM_DEFAULT),
      "cublasGemmBatchedEx");
}

DeviceStatus zero(float* p, int64_t n) {
  const cudaError_t code = cudaMemsetAsync(p, 0, n * sizeof(float), /*stream=*/0);
  if (code == cudaSuccess) return {};
  return {std::string("cudaMemsetAsync: ") + cudaGetErrorName(code)};
}

bool empty(const AttentionShape& s) {
  return s.batch <= 0 || s.seq <= 0 || s.hidden <= 0 || s.heads <= 0;
}

// The operand copy of an fp32 tensor: itself for fp32, else rounded to bf16 into `bf16`.
const void* operand(const Operands& ops, const float* x, Bf16* bf16, int64_t n) {
  if (!ops.bf16) return x;
  float_to_bf16(bf16, x, n);
  return bf16;
}

Bf16* bf16_region(float* scratch, int64_t offset) {
  return reinterpret_cast<Bf16*>(scratch + offset);
}

DeviceStatus forward(const Operands& ops, BlasContext& context, float* out, float* probs,
                     const float* qkv, const int32_t* key_mask, const AttentionShape& shape,
                     const DropoutSpec& dropout, float* scratch) {
  if (empty(shape)) return {};
  const AttentionScratchLayout layout = attention_scratch_layout(shape, ops.bf16);
  const int64_t t = shape.seq, d = shape.head_dim(), heads = shape.batch * shape.heads;
  const int64_t all_probs = heads * t * t;
  const float scale = 1.0f / std::sqrt(float(d));  // the CPU's T(1) / sqrt(T(D))
  const HeadSlices scores = score_slices(shape), q = query_slices(shape),
                   k = key_slices(shape), v = value_slices(shape), ctx = context_slices(shape);

  const void* qkv_op =
      operand(ops, qkv, bf16_region(scratch, layout.qkv_bf16), shape.batch * t * 3 * shape.hidden);
  // The dropped probabilities as the second product reads them: probs itself, their
  // dropout in scratch, or (bf16) either of those rounded.
  float* dropped = dropout.active() ? scratch + layout.first : probs;
  const void* dropped_op = ops.bf16 ? static_cast<const void*>(bf16_region(scratch, layout.probs_bf16))
                                    : dropped;

  HeadTables tables(scratch, layout, heads);
  const void* const* q_t = tables.add(qkv_op, q, ops.bytes());
  const void* const* k_t = tables.add(qkv_op, k, ops.bytes());
  const void* const* v_t = tables.add(qkv_op, v, ops.bytes());
  const void* const* scores_t = tables.add(probs, scores, 4);
  const void* const* dropped_t = tables.add(dropped_op, scores, ops.bytes());
  const void* const* out_t = tables.add(out, ctx, 4);
  tables.build();

  // scores (T, T) = scale · Q (T, D) · Kᵀ per head, written straight into probs.
  CLOZE_RETURN_IF_DEVICE_ERROR(batched_gemm(context, ops, false, true, t, t, d, scale, q_t, q.ld,
                                            k_t, k.ld, 0.0f, scores_t, scores.ld, heads));
  masked_softmax_forward_grouped(probs, probs, key_mask, heads * t, t, shape.heads * t);
  if (dropout.active()) dropout_forward(dropped, probs, all_probs, dropout);
  if (ops.bf16) float_to_bf16(bf16_region(scratch, layout.probs_bf16), dropped, all_probs);
  // out (T, D) = dropped probs (T, T) · V (T, D) per head.
  return batched_gemm(context, ops, false, false, t, d, t, 1.0f, dropped_t, scores.ld, v_t, v.ld,
                      0.0f, out_t, ctx.ld, heads);
}

DeviceStatus backward(const Operands& ops, BlasContext& context, float* dqkv, const float* dout,
                      const float* qkv, const float* probs, const AttentionShape& shape,
                      const DropoutSpec& dropout, float* scratch) {
  if (empty(shape)) return {};
  const AttentionScratchLayout layout = attention_scratch_layout(shape, ops.bf16);
  const int64_t t = shape.seq, d = shape.head_dim(), heads = shape.batch * shape.heads;
  const int64_t all_probs = heads * t * t;
  const float scale = 1.0f / std::sqrt(float(d));
  const HeadSlices scores = score_slices(shape), q = query_slices(shape),
                   k = key_slices(shape), v = value_slices(shape), ctx = context_slices(shape);
  float* first = scratch + layout.first;    // d(dropped probs), later dscores or dprobs
  float* second = scratch + layout.second;  // dropped probs, later dprobs or dscores
  Bf16* probs_bf16 = bf16_region(scratch, layout.probs_bf16);  // dropped, later dscores

  const void* qkv_op =
      operand(ops, qkv, bf16_region(scratch, layout.qkv_bf16), shape.batch * t * 3 * shape.hidden);
  const void* dout_op =
      operand(ops, dout, bf16_region(scratch, layout.context_bf16), shape.batch * t * shape.hidden);
  const float* dropped = probs;
  if (dropout.active()) {
    dropout_forward(second, probs, all_probs, dropout);
    dropped = second;
  }
  const void* dropped_op = operand(ops, dropped, probs_bf16, all_probs);
  // dprobs = dropout backward of d(dropped); dscores = softmax backward of dprobs. Each
  // accumulates into zeros, as the CPU's scratch does. Without dropout dprobs = d(dropped).
  float* dprobs = dropout.active() ? second : first;
  float* dscores = dropout.active() ? first : second;
  const void* dscores_op = ops.bf16 ? static_cast<const void*>(probs_bf16) : dscores;

  HeadTables tables(scratch, layout, heads);
  const void* const* dout_t = tables.add(dout_op, ctx, ops.bytes());
  const void* const* v_t = tables.add(qkv_op, v, ops.bytes());
  const void* const* ddropped_t = tables.add(first, scores, 4);
  const void* const* dropped_t = tables.add(dropped_op, scores, ops.bytes());
  const void* const* dv_t = tables.add(dqkv, v, 4);
  const void* const* dscores_t = tables.add(dscores_op, scores, ops.bytes());
  const void* const* k_t = tables.add(qkv_op, k, ops.bytes());
  const void* const* dq_t = tables.add(dqkv, q, 4);
  const void* const* q_t = tables.add(qkv_op, q, ops.bytes());
  const void* const* dk_t = tables.add(dqkv, k, 4);
  tables.build();

  // d(dropped) (T, T) = dout (T, D) · Vᵀ;  dV (T, D) += droppedᵀ · dout.
  CLOZE_RETURN_IF_DEVICE_ERROR(batched_gemm(context, ops, false, true, t, t, d, 1.0f, dout_t,
                                            ctx.ld, v_t, v.ld, 0.0f, ddropped_t, scores.ld,
                                            heads));
  CLOZE_RETURN_IF_DEVICE_ERROR(batched_gemm(context, ops, true, false, t, d, t, 1.0f, dropped_t,
                                            scores.ld, dout_t, ctx.ld, 1.0f, dv_t, v.ld, heads));
  if (dropout.active()) {
    CLOZE_RETURN_IF_DEVICE_ERROR(zero(dprobs, all_probs));
    dropout_backward(dprobs, first, all_probs, dropout);
  }
  CLOZE_RETURN_IF_DEVICE_ERROR(zero(dscores, all_probs));
  masked_softmax_backward(dscores, dprobs, probs, heads * t, t);
  // The bf16 dropped probabilities are dead after dV's product (stream order): reuse them.
  if (ops.bf16) float_to_bf16(probs_bf16, dscores, all_probs);
  // dQ (T, D) += scale · dS · K;  dK (T, D) += scale · dSᵀ · Q.
  CLOZE_RETURN_IF_DEVICE_ERROR(batched_gemm(context, ops, false, false, t, d, t, scale,
                                            dscores_t, scores.ld, k_t, k.ld, 1.0f, dq_t, q.ld,
                                            heads));
  return batched_gemm(context, ops, true, false, t, d, t, scale, dscores_t, scores.ld, q_t, q.ld,
                      1.0f, dk_t, k.ld, heads);
}

}  // namespace

DeviceStatus attention_forward(BlasContext& context, float* out, float* probs, const float* qkv,
                               const int32_t* key_mask, const AttentionShape& shape,
                               const DropoutSpec& dropout, float* scratch) {
  return forward({.bf16 = false}, context, out, probs, qkv, key_mask, shape, dropout, scratch);
}

DeviceStatus attention_backward(BlasContext& context, float* dqkv, const float* dout,
                                const float* qkv, const float* probs,
                                const AttentionShape& shape, const DropoutSpec& dropout,
                                float* scratch) {
  return backward({.bf16 = false}, context, dqkv, dout, qkv, probs, shape, dropout, scratch);
}

DeviceStatus attention_forward_bf16(BlasContext& context, float* out, float* probs,
                                    const float* qkv, const int32_t* key_mask,
                                    const AttentionShape& shape, const DropoutSpec& dropout,
                                    float* scratch) {
  return forward({.bf16 = true}, context, out, probs, qkv, key_mask, shape, dropout, scratch);
}

DeviceStatus attention_backward_bf16(BlasContext& context, float* dqkv, const float* dout,
                                     const float* qkv, const float* probs,
                                     const AttentionShape& shape, const DropoutSpec& dropout,
                                     float* scratch) {
  return backward({.bf16 = true}, context, dqkv, dout, qkv, probs, shape, dropout, scratch);
}

}  // namespace cloze::cuda
