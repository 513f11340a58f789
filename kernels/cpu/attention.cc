#include "kernels/cpu/attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/cpu/blas.h"

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

namespace {

// Pointers into one (batch, head) slice of the attention tensors.
template <typename T>
struct HeadView {
  int64_t t, d, c3, c;  // sequence, head dim, qkv row stride, output row stride
  int64_t probs_first;  // index of this head's first probability (dropout mask offset)
  const T* q;
  const T* k;
  const T* v;
};

template <typename T>
HeadView<T> head_view(const T* qkv, const AttentionShape& s, int64_t b, int64_t h) {
  const int64_t d = s.head_dim();
  const T* base = qkv + b * s.seq * 3 * s.hidden + h * d;
  return {s.seq, d, 3 * s.hidden, s.hidden, (b * s.heads + h) * s.seq * s.seq,
          base, base + s.hidden, base + 2 * s.hidden};
}

// Probabilities as used by P·V: dropped (into scratch) when dropout is active.
template <typename T>
const T* dropped_probs(const T* probs, T* scratch, int64_t n, uint64_t first, const DropoutSpec& dropout) {
  if (!dropout.active()) return probs;
  dropout_forward_slice(scratch, probs, n, first, dropout);
  return scratch;
}

}  // namespace

template <typename T>
void attention_forward_reference(T* out, T* probs, const T* qkv, const int32_t* key_mask,
                                 const AttentionShape& shape, const DropoutSpec& dropout) {
  const T scale = T(1) / std::sqrt(T(shape.head_dim()));
#pragma omp parallel
  {
    std::vector<T> scores(shape.seq * shape.seq), dropped(shape.seq * shape.seq);
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const HeadView<T> hv = head_view(qkv, shape, b, h);
        for (int64_t i = 0; i < hv.t; ++i) {
          for (int64_t j = 0; j < hv.t; ++j) {
            T dot = T(0);
            for (int64_t x = 0; x < hv.d; ++x) dot += hv.q[i * hv.c3 + x] * hv.k[j * hv.c3 + x];
            scores[i * hv.t + j] = dot * scale;
          }
        }
        T* p = probs + hv.probs_first;
        masked_softmax_forward(p, scores.data(), key_mask + b * shape.seq, hv.t, hv.t);
        const T* pd = dropped_probs(p, dropped.data(), hv.t * hv.t, hv.probs_first, dropout);
        T* o = out + b * shape.seq * shape.hidden + h * hv.d;
        for (int64_t i = 0; i < hv.t; ++i) {
          for (int64_t x = 0; x < hv.d; ++x) {
            T sum = T(0);
            for (int64_t j = 0; j < hv.t; ++j) sum += pd[i * hv.t + j] * hv.v[j * hv.c3 + x];
            o[i * hv.c + x] = sum;
          }
        }
      }
    }
  }
}

template <typename T>
void attention_backward_reference(T* dqkv, const T* dout, const T* qkv, const T* probs,
                                  const AttentionShape& shape, const DropoutSpec& dropout) {
  const T scale = T(1) / std::sqrt(T(shape.head_dim()));
  const int64_t tt = shape.seq * shape.seq;
#pragma omp parallel
  {
    std::vector<T> dropped(tt), ddropped(tt), dprobs(tt), dscores(tt);
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const HeadView<T> hv = head_view(qkv, shape, b, h);
        const T* p = probs + hv.probs_first;
        const T* pd = dropped_probs(p, dropped.data(), tt, hv.probs_first, dropout);
        const T* g = dout + b * shape.seq * shape.hidden + h * hv.d;
        T* dq = dqkv + b * shape.seq * 3 * shape.hidden + h * hv.d;
        T* dk = dq + shape.hidden;
        T* dv = dq + 2 * shape.hidden;
        // out = pd·V: d(pd) = dout·Vᵀ, dV += pdᵀ·dout.
        for (int64_t i = 0; i < hv.t; ++i) {
          for (int64_t j = 0; j < hv.t; ++j) {
            T dot = T(0);
            for (int64_t x = 0; x < hv.d; ++x) dot += g[i * hv.c + x] * hv.v[j * hv.c3 + x];
            ddropped[i * hv.t + j] = dot;
          }
        }
        for (int64_t j = 0; j < hv.t; ++j) {
          for (int64_t x = 0; x < hv.d; ++x) {
            T sum = T(0);
            for (int64_t i = 0; i < hv.t; ++i) sum += pd[i * hv.t + j] * g[i * hv.c + x];
            dv[j * hv.c3 + x] += sum;
          }
        }
        if (dropout.active()) {
          std::fill(dprobs.begin(), dprobs.end(), T(0));
          dropout_backward_slice(dprobs.data(), ddropped.data(), tt, hv.probs_first, dropout);
        } else {
          std::copy(ddropped.begin(), ddropped.end(), dprobs.begin());
        }
        std::fill(dscores.begin(), dscores.end(), T(0));
        masked_softmax_backward(dscores.data(), dprobs.data(), p, hv.t, hv.t);
        // scores = scale·Q·Kᵀ: dQ += scale·dS·K, dK += scale·dSᵀ·Q.
        for (int64_t i = 0; i < hv.t; ++i) {
          for (int64_t x = 0; x < hv.d; ++x) {
            T sq = T(0), sk = T(0);
            for (int64_t j = 0; j < hv.t; ++j) {
              sq += dscores[i * hv.t + j] * hv.k[j * hv.c3 + x];
              sk += dscores[j * hv.t + i] * hv.q[j * hv.c3 + x];
            }
            dq[i * hv.c3 + x] += scale * sq;
            dk[i * hv.c3 + x] += scale * sk;
          }
        }
      }
    }
  }
}

template <typename T>
void attention_forward(T* out, T* probs, const T* qkv, const int32_t* key_mask,
                       const AttentionShape& shape, const DropoutSpec& dropout) {
  const T scale = T(1) / std::sqrt(T(shape.head_dim()));
  const int64_t tt = shape.seq * shape.seq;
#pragma omp parallel
  {
    std::vector<T> scores(tt), dropped(tt);
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const HeadView<T> hv = head_view(qkv, shape, b, h);
        // scores (T, T) = scale · Q (T, D) · Kᵀ
        gemm(false, true, hv.t, hv.t, hv.d, scale, hv.q, hv.c3, hv.k, hv.c3, T(0), scores.data(), hv.t);
        T* p = probs + hv.probs_first;
        masked_softmax_forward(p, scores.data(), key_mask + b * shape.seq, hv.t, hv.t);
        const T* pd = dropped_probs(p, dropped.data(), tt, hv.probs_first, dropout);
        // out (T, D) = pd (T, T) · V (T, D)
        T* o = out + b * shape.seq * shape.hidden + h * hv.d;
        gemm(false, false, hv.t, hv.d, hv.t, T(1), pd, hv.t, hv.v, hv.c3, T(0), o, hv.c);
      }
    }
  }
}

template <typename T>
void attention_backward(T* dqkv, const T* dout, const T* qkv, const T* probs,
                        const AttentionShape& shape, const DropoutSpec& dropout) {
  const T scale = T(1) / std::sqrt(T(shape.head_dim()));
  const int64_t tt = shape.seq * shape.seq;
#pragma omp parallel
  {
    std::vector<T> dropped(tt), ddropped(tt), dprobs(tt), dscores(tt);
#pragma omp for collapse(2) schedule(static)
    for (int64_t b = 0; b < shape.batch; ++b) {
      for (int64_t h = 0; h < shape.heads; ++h) {
        const HeadView<T> hv = head_view(qkv, shape, b, h);
        const T* p = probs + hv.probs_first;
        const T* pd = dropped_probs(p, dropped.data(), tt, hv.probs_first, dropout);
        const T* g = dout + b * shape.seq * shape.hidden + h * hv.d;
        T* dq = dqkv + b * shape.seq * 3 * shape.hidden + h * hv.d;
        T* dk = dq + shape.hidden;
        T* dv = dq + 2 * shape.hidden;
        // d(pd) (T, T) = dout (T, D) · Vᵀ;  dV (T, D) += pdᵀ · dout
        gemm(false, true, hv.t, hv.t, hv.d, T(1), g, hv.c, hv.v, hv.c3, T(0), ddropped.data(), hv.t);
        gemm(true, false, hv.t, hv.d, hv.t, T(1), pd, hv.t, g, hv.c, T(1), dv, hv.c3);
        const T* dp = ddropped.data();
        if (dropout.active()) {
          std::fill(dprobs.begin(), dprobs.end(), T(0));
          dropout_backward_slice(dprobs.data(), ddropped.data(), tt, hv.probs_first, dropout);
          dp = dprobs.data();
        }
        std::fill(dscores.begin(), dscores.end(), T(0));
        masked_softmax_backward(dscores.data(), dp, p, hv.t, hv.t);
        // dQ (T, D) += scale · dS · K;  dK (T, D) += scale · dSᵀ · Q
        gemm(false, false, hv.t, hv.d, hv.t, scale, dscores.data(), hv.t, hv.k, hv.c3, T(1), dq, hv.c3);
        gemm(true, false, hv.t, hv.d, hv.t, scale, dscores.data(), hv.t, hv.q, hv.c3, T(1), dk, hv.c3);
      }
    }
  }
}

#define CLOZE_INSTANTIATE(T)                                                                     \
  template void masked_softmax_forward<T>(T*, const T*, const int32_t*, int64_t, int64_t);      \
  template void masked_softmax_backward<T>(T*, const T*, const T*, int64_t, int64_t);           \
  template void attention_forward_reference<T>(T*, T*, const T*, const int32_t*,                \
                                               const AttentionShape&, const DropoutSpec&);      \
  template void attention_backward_reference<T>(T*, const T*, const T*, const T*,               \
                                                const AttentionShape&, const DropoutSpec&);     \
  template void attention_forward<T>(T*, T*, const T*, const int32_t*, const AttentionShape&,   \
                                     const DropoutSpec&);                                       \
  template void attention_backward<T>(T*, const T*, const T*, const T*, const AttentionShape&,  \
                                      const DropoutSpec&);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
