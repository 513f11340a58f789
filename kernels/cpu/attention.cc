#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cpu/attention_bf16.h"
#include "kernels/cpu/bf16_gemm.h"

namespace cloze::cpu {

template <typename T>
void masked_softmax_forward(T* probs, const T* scores, const int32_t* key_mask, int64_t rows,
                            int64_t t) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* s = scores + r * t;
    T* p = probs + r * t;
    T max = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < t; ++j) {
      if (key_mask[j] != 0) max = std::max(max, s[j]);
    }
    T sum = T(0);
    for (int64_t j = 0; j < t; ++j) {
      p[j] = key_mask[j] != 0 ? std::exp(s[j] - max) : T(0);
      sum += p[j];
    }
    const T inv = sum > T(0) ? T(1) / sum : T(0);
    for (int64_t j = 0; j < t; ++j) p[j] *= inv;
  }
}

template <typename T>
void masked_softmax_backward(T* dscores, const T* dprobs, const T* probs, int64_t rows, int64_t t) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* p = probs + r * t;
    const T* dp = dprobs + r * t;
    T dot = T(0);
    for (int64_t j = 0; j < t; ++j) dot += dp[j] * p[j];
    T* ds = dscores + r * t;
    for (int64_t j = 0; j < t; ++j) ds[j] += p[j] * (dp[j] - dot);
  }
}

template <typename T>
void attention_dropout_forward(T* out, const T* probs, int64_t t, uint64_t mask_first, int64_t mask_stride,
                               const DropoutSpec& dropout) {
  if (t == mask_stride) {  // rows contiguous in the mask: one slice
    dropout_forward_slice(out, probs, t * t, mask_first, dropout);
    return;
  }
  for (int64_t i = 0; i < t; ++i) {
    dropout_forward_slice(out + i * t, probs + i * t, t, mask_first + i * mask_stride, dropout);
  }
}

template <typename T>
void attention_dropout_backward(T* dprobs, const T* dout, int64_t t, uint64_t mask_first, int64_t mask_stride,
                                const DropoutSpec& dropout) {
  if (t == mask_stride) {
    dropout_backward_slice(dprobs, dout, t * t, mask_first, dropout);
    return;
  }
  for (int64_t i = 0; i < t; ++i) {
    dropout_backward_slice(dprobs + i * t, dout + i * t, t, mask_first + i * mask_stride, dropout);
  }
}

namespace {

// Pointers into one (batch, head) slice of the attention tensors.
template <typename T>
struct HeadView {
  int64_t t, d, c3, c;  // sequence (this example's length), head dim, qkv row stride, output row stride
  int64_t probs_first;  // offset of this head's probabilities in probs
  uint64_t mask_first;  // dropout mask index of its probability (0, 0); rows shape.seq apart
  int64_t row;          // the example's first row in qkv and out
  const T* q;
  const T* k;
  const T* v;
};

template <typename T>
HeadView<T> head_view(const T* qkv, const AttentionShape& s, int64_t b, int64_t h) {
  const int64_t d = s.head_dim(), t = s.length(b), row = s.first_row(b);
  const T* base = qkv + row * 3 * s.hidden + h * d;
  return {t, d, 3 * s.hidden, s.hidden, s.probs_first(b) + h * t * t,
          static_cast<uint64_t>((b * s.heads + h) * s.seq * s.seq), row, base, base + s.hidden, base + 2 * s.hidden};
}

// Probabilities as used by P·V: dropped (into scratch) when dropout is active.
template <typename T>
const T* dropped_probs(const T* probs, T* scratch, const HeadView<T>& hv, int64_t mask_stride,
                       const DropoutSpec& dropout) {
  if (!dropout.active()) return probs;
  attention_dropout_forward(scratch, probs, hv.t, hv.mask_first, mask_stride, dropout);
  return scratch;
}

// One implementation for both paths; they differ only in the matrix product: plain
// loops (the oracle) or BLAS.
template <typename T>
void plain_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
                int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      T sum = T(0);
      for (int64_t x = 0; x < k; ++x) {
        sum += (trans_a ? a[x * lda + i] : a[i * lda + x]) * (trans_b ? b[j * ldb + x] : b[x * ldb + j]);
      }
      c[i * ldc + j] = alpha * sum + (beta == T(0) ? T(0) : beta * c[i * ldc + j]);
    }
  }
}

// BLAS (or oneDNN at kBf16) at one precision.
template <typename T>
struct BlasGemm {
  Precision precision;
  void operator()(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
                  const T* b, int64_t ldb, T beta, T* c, int64_t ldc) const {
    gemm(precision, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
};

template <typename T, typename Gemm>
void attention_forward_with(Gemm product, T* out, T* probs, const T* qkv, const int32_t* key_mask,
                            const AttentionShape& shape, const DropoutSpec& dropout) {
  const T scale = T(1) / std::sqrt(T(shape.head_dim()));
  const int64_t tt = shape.seq * shape.seq;
#pragma omp parallel
  {
    std::vector<T> scores(tt), dropped(tt);
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const HeadView<T> hv = head_view(qkv, shape, b, h);
        // scores (T, T) = scale · Q (T, D) · Kᵀ
        product(false, true, hv.t, hv.t, hv.d, scale, hv.q, hv.c3, hv.k, hv.c3, T(0), scores.data(), hv.t);
        T* p = probs + hv.probs_first;
        masked_softmax_forward(p, scores.data(), key_mask + b * shape.seq, hv.t, hv.t);
        const T* pd = dropped_probs(p, dropped.data(), hv, shape.seq, dropout);
        // out (T, D) = pd (T, T) · V (T, D)
        T* o = out + hv.row * shape.hidden + h * hv.d;
        product(false, false, hv.t, hv.d, hv.t, T(1), pd, hv.t, hv.v, hv.c3, T(0), o, hv.c);
      }
    }
  }
}

template <typename T, typename Gemm>
void attention_backward_with(Gemm product, T* dqkv, const T* dout, const T* qkv, const T* probs,
                             const AttentionShape& shape, const DropoutSpec& dropout) {
  const T scale = T(1) / std::sqrt(T(shape.head_dim()));
  const int64_t tt = shape.seq * shape.seq;
#pragma omp parallel
  {
    std::vector<T> dropped(tt), ddropped(tt), dprobs(tt), dscores(tt);
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const HeadView<T> hv = head_view(qkv, shape, b, h);
        const T* p = probs + hv.probs_first;
        const T* pd = dropped_probs(p, dropped.data(), hv, shape.seq, dropout);
        const T* g = dout + hv.row * shape.hidden + h * hv.d;
        T* dq = dqkv + hv.row * 3 * shape.hidden + h * hv.d;
        T* dk = dq + shape.hidden;
        T* dv = dq + 2 * shape.hidden;
        // d(pd) (T, T) = dout (T, D) · Vᵀ;  dV (T, D) += pdᵀ · dout
        product(false, true, hv.t, hv.t, hv.d, T(1), g, hv.c, hv.v, hv.c3, T(0), ddropped.data(), hv.t);
        product(true, false, hv.t, hv.d, hv.t, T(1), pd, hv.t, g, hv.c, T(1), dv, hv.c3);
        const T* dp = ddropped.data();
        if (dropout.active()) {
          std::fill(dprobs.begin(), dprobs.end(), T(0));
          attention_dropout_backward(dprobs.data(), ddropped.data(), hv.t, hv.mask_first, shape.seq, dropout);
          dp = dprobs.data();
        }
        std::fill(dscores.begin(), dscores.end(), T(0));
        masked_softmax_backward(dscores.data(), dp, p, hv.t, hv.t);
        // dQ (T, D) += scale · dS · K;  dK (T, D) += scale · dSᵀ · Q
        product(false, false, hv.t, hv.d, hv.t, scale, dscores.data(), hv.t, hv.k, hv.c3, T(1), dq, hv.c3);
        product(true, false, hv.t, hv.d, hv.t, scale, dscores.data(), hv.t, hv.q, hv.c3, T(1), dk, hv.c3);
      }
    }
  }
}

}  // namespace

template <typename T>
void attention_forward_reference(T* out, T* probs, const T* qkv, const int32_t* key_mask,
                                 const AttentionShape& shape, const DropoutSpec& dropout) {
  attention_forward_with(plain_gemm<T>, out, probs, qkv, key_mask, shape, dropout);
}

template <typename T>
void attention_backward_reference(T* dqkv, const T* dout, const T* qkv, const T* probs,
                                  const AttentionShape& shape, const DropoutSpec& dropout) {
  attention_backward_with(plain_gemm<T>, dqkv, dout, qkv, probs, shape, dropout);
}

template <typename T>
void attention_forward(T* out, T* probs, const T* qkv, const int32_t* key_mask,
                       const AttentionShape& shape, const DropoutSpec& dropout, Precision precision) {
  if constexpr (std::is_same_v<T, float>) {
    if (precision == Precision::kBf16 && CpuHasBf16()) {
      attention_forward_bf16(out, probs, qkv, key_mask, shape, dropout);
      return;
    }
  }
  attention_forward_with(BlasGemm<T>{precision}, out, probs, qkv, key_mask, shape, dropout);
}

template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* probs,
                        const AttentionShape& shape, const DropoutSpec& dropout, Precision precision) {
  if constexpr (std::is_same_v<T, float>) {
    if (precision == Precision::kBf16 && CpuHasBf16()) {
      attention_backward_bf16(dqkv, dout, qkv, probs, shape, dropout);
      return;
    }
  }
  attention_backward_with(BlasGemm<T>{precision}, dqkv, dout, qkv, probs, shape, dropout);
}

#define CLOZE_INSTANTIATE(T)                                                                     \
  template void masked_softmax_forward<T>(T*, const T*, const int32_t*, int64_t, int64_t);      \
  template void masked_softmax_backward<T>(T*, const T*, const T*, int64_t, int64_t);           \
  template void attention_dropout_forward<T>(T*, const T*, int64_t, uint64_t, int64_t,          \
                                             const DropoutSpec&);                               \
  template void attention_dropout_backward<T>(T*, const T*, int64_t, uint64_t, int64_t,         \
                                              const DropoutSpec&);                              \
  template void attention_forward_reference<T>(T*, T*, const T*, const int32_t*,                \
                                               const AttentionShape&, const DropoutSpec&);      \
  template void attention_backward_reference<T>(T*, const T*, const T*, const T*,               \
                                                const AttentionShape&, const DropoutSpec&);     \
  template void attention_forward<T>(T*, T*, const T*, const int32_t*, const AttentionShape&,   \
                                     const DropoutSpec&, Precision);                            \
  template void attention_backward<T>(T*, const T*, const T*, const T*, const AttentionShape&,  \
                                      const DropoutSpec&, Precision);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
