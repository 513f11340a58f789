#include "kernels/cpu/attention_bf16.h"

#include <cmath>
#include <limits>
#include <vector>

#include "kernels/cpu/bf16_convert.h"
#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/fast_math.h"

namespace cloze::cpu {
namespace {

#define CLOZE_WIDE __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq,fma,prefer-vector-width=512")))

using bf16::Bits;

// A matrix operand in both precisions: the bf16 copy the product reads, and the fp32 one for
// the fp32 product where oneDNN has no bf16 one.
struct Operand {
  const Bits* bits;
  const float* fp32;
  int64_t ld;
};

// C = alpha · op(A) · op(B) + beta · C with bf16 operands (gemm()'s contract).
void Product(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, Operand a, Operand b, float beta,
             float* c, int64_t ldc) {
  if (!gemm_bf16_converted(trans_a, trans_b, m, n, k, alpha, a.bits, a.ld, b.bits, b.ld, beta, c, ldc)) {
    gemm(trans_a, trans_b, m, n, k, alpha, a.fp32, a.ld, b.fp32, b.ld, beta, c, ldc);
  }
}

// One (batch, head): its offsets into qkv (row stride 3C) and into out / dout (row stride C).
struct Head {
  int64_t qkv, out, probs;  // first element of Q, of the output slice, of the probabilities
  uint64_t mask_first;      // dropout mask index of probability (0, 0); rows T apart
  int64_t t, d, c, c3;      // t: this example's length (T unless packed)
};

Head HeadAt(const AttentionShape& s, int64_t b, int64_t h) {
  const int64_t d = s.head_dim(), t = s.length(b), row = s.first_row(b);
  return {row * 3 * s.hidden + h * d, row * s.hidden + h * d, s.probs_first(b) + h * t * t,
          static_cast<uint64_t>((b * s.heads + h) * s.seq * s.seq), t, d, s.hidden, 3 * s.hidden};
}

// The calling thread's bf16 copies of qkv and dout: kept between calls, so their pages are
// not allocated (and zeroed by the kernel) again for every layer.
struct Copies {
  std::vector<Bits> qkv, dout;
};
Copies& CopiesOfThisThread() {
  thread_local Copies copies;
  return copies;
}

// fp32 x (n) to bf16, in place of the calling thread (no OpenMP inside a parallel region).
void ToBits(Bits* dst, const float* src, int64_t n) { bf16::ConvertRows(dst, src, 1, n, n); }

// One head's Q, K and V: column slices of qkv (and of its bf16 copy) with row stride 3C.
struct HeadQkv {
  Operand q, k, v;
};
HeadQkv QkvOf(const Head& hd, const Bits* qkv_bits, const float* qkv) {
  const Operand q{qkv_bits + hd.qkv, qkv + hd.qkv, hd.c3};
  return {q, {q.bits + hd.c, q.fp32 + hd.c, hd.c3}, {q.bits + 2 * hd.c, q.fp32 + 2 * hd.c, hd.c3}};
}

// The head's probabilities after dropout, as the product with V reads them: `dropped` (fp32,
// T x T; the probabilities themselves when dropout is off) and their bf16 copy in `bits`.
Operand DroppedProbs(const Head& hd, int64_t seq, const float* probs, const DropoutSpec& dropout, float* dropped,
                     Bits* bits) {
  const int64_t tt = hd.t * hd.t;
  const float* p = probs + hd.probs;
  if (dropout.active()) {
    attention_dropout_forward(dropped, p, hd.t, hd.mask_first, seq, dropout);
    p = dropped;
  }
  ToBits(bits, p, tt);
  return {bits, p, hd.t};
}

}  // namespace

CLOZE_WIDE void masked_softmax_forward_wide(float* probs, const float* scores, const int32_t* key_mask, int64_t rows,
                                            int64_t t) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* s = scores + r * t;
    float* p = probs + r * t;
    float max = -std::numeric_limits<float>::infinity();
#pragma omp simd reduction(max : max)
    for (int64_t j = 0; j < t; ++j) max = key_mask[j] != 0 && s[j] > max ? s[j] : max;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int64_t j = 0; j < t; ++j) {
      p[j] = key_mask[j] != 0 ? fast_expf(s[j] - max) : 0.0f;
      sum += p[j];
    }
    const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
#pragma omp simd
    for (int64_t j = 0; j < t; ++j) p[j] *= inv;
  }
}

CLOZE_WIDE void masked_softmax_backward_wide(float* dscores, const float* dprobs, const float* probs, int64_t rows,
                                             int64_t t) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = probs + r * t;
    const float* dp = dprobs + r * t;
    float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
    for (int64_t j = 0; j < t; ++j) dot += dp[j] * p[j];
    float* ds = dscores + r * t;
#pragma omp simd
    for (int64_t j = 0; j < t; ++j) ds[j] = p[j] * (dp[j] - dot);
  }
}

void attention_forward_bf16(float* out, float* probs, const float* qkv, const int32_t* key_mask,
                            const AttentionShape& shape, const DropoutSpec& dropout) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim()));
  const int64_t n = shape.rows(), tt = shape.seq * shape.seq;
  std::vector<Bits>& qkv_bits = CopiesOfThisThread().qkv;
  qkv_bits.resize(n * 3 * shape.hidden);
  bf16::ConvertRows(qkv_bits.data(), qkv, n, 3 * shape.hidden, 3 * shape.hidden);
#pragma omp parallel
  {
    std::vector<float> scores(tt), dropped(tt);
    std::vector<Bits> dropped_bits(tt);
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const Head hd = HeadAt(shape, b, h);
        const HeadQkv x = QkvOf(hd, qkv_bits.data(), qkv);
        // scores (T, T) = scale · Q · Kᵀ; probs = softmax; dropped = dropout(probs) in bf16
        Product(false, true, hd.t, hd.t, hd.d, scale, x.q, x.k, 0.0f, scores.data(), hd.t);
        masked_softmax_forward_wide(probs + hd.probs, scores.data(), key_mask + b * shape.seq, hd.t, hd.t);
        const Operand pd = DroppedProbs(hd, shape.seq, probs, dropout, dropped.data(), dropped_bits.data());
        // out (T, D) = dropped · V
        Product(false, false, hd.t, hd.d, hd.t, 1.0f, pd, x.v, 0.0f, out + hd.out, hd.c);
      }
    }
  }
}

void attention_backward_bf16(float* dqkv, const float* dout, const float* qkv, const float* probs,
                             const AttentionShape& shape, const DropoutSpec& dropout) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(shape.head_dim()));
  const int64_t n = shape.rows(), tt = shape.seq * shape.seq;
  std::vector<Bits>& qkv_bits = CopiesOfThisThread().qkv;
  std::vector<Bits>& dout_bits = CopiesOfThisThread().dout;
  qkv_bits.resize(n * 3 * shape.hidden);
  dout_bits.resize(n * shape.hidden);
  bf16::ConvertRows(qkv_bits.data(), qkv, n, 3 * shape.hidden, 3 * shape.hidden);
  bf16::ConvertRows(dout_bits.data(), dout, n, shape.hidden, shape.hidden);
#pragma omp parallel
  {
    std::vector<float> dropped(tt), ddropped(tt), dprobs(tt), dscores(tt);
    std::vector<Bits> dropped_bits(tt), dscores_bits(tt);
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const Head hd = HeadAt(shape, b, h);
        const HeadQkv x = QkvOf(hd, qkv_bits.data(), qkv);
        const Operand g{dout_bits.data() + hd.out, dout + hd.out, hd.c};
        float* dq = dqkv + hd.qkv;
        float* dk = dq + hd.c;
        float* dv = dq + 2 * hd.c;
        const float* p = probs + hd.probs;
        const Operand pd = DroppedProbs(hd, shape.seq, probs, dropout, dropped.data(), dropped_bits.data());
        // d(dropped) (T, T) = dout · Vᵀ;  dV += droppedᵀ · dout
        Product(false, true, hd.t, hd.t, hd.d, 1.0f, g, x.v, 0.0f, ddropped.data(), hd.t);
        Product(true, false, hd.t, hd.d, hd.t, 1.0f, pd, g, 1.0f, dv, hd.c3);
        const float* dp = ddropped.data();
        if (dropout.active()) {
          std::fill(dprobs.begin(), dprobs.end(), 0.0f);
          attention_dropout_backward(dprobs.data(), ddropped.data(), hd.t, hd.mask_first, shape.seq, dropout);
          dp = dprobs.data();
        }
        masked_softmax_backward_wide(dscores.data(), dp, p, hd.t, hd.t);
        ToBits(dscores_bits.data(), dscores.data(), tt);
        // dQ += scale · dS · K;  dK += scale · dSᵀ · Q
        const Operand ds{dscores_bits.data(), dscores.data(), hd.t};
        Product(false, false, hd.t, hd.d, hd.t, scale, ds, x.k, 1.0f, dq, hd.c3);
        Product(true, false, hd.t, hd.d, hd.t, scale, ds, x.q, 1.0f, dk, hd.c3);
      }
    }
  }
}

}  // namespace cloze::cpu
