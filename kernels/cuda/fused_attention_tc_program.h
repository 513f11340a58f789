// The tensor-core attention's block programs (fused_attention_tc.h): each kernel's whole
// body, as a fixed sequence of phases run through an executor (tc_tile_ops.h). A phase is
// either a tile product, one 16-row strip per warp through the tile ops (WMMA on the GPU),
// or per-element / per-row work on shared memory by the block's threads. The kernels
// (fused_attention_tc.cu) run these programs with WmmaTileOps and DeviceExec; the host
// emulation (testing/fused_attention_tc_emulation.h) runs the very same functions with
// HostTileOps and HostExec, block after block, so a CPU test checks all of the math,
// indexing, tiling, masking and dropout; only the CUDA mechanics are left to the GPU.
//
// What is rounded to bf16 (nearest even), everything else being fp32:
//   Q, K, V and dout, as they are staged into shared memory from the fp32 inputs;
//   forward's unnormalised probabilities keep·exp(s − m) (the operand of P·V);
//   backward's dropped probabilities keep·P/(1 − p) (operand of dV) and dS (operand of
//   dQ and dK).
// Sums (the products' accumulators, the softmax's max and sum, the running output) are fp32;
// Δ = dout·out is formed in fp32 from the fp32 tensors (fused::delta_row), as in the fp32
// kernels; scores are scaled by 1/√D and rescaled in fp32.
#ifndef CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_PROGRAM_H_
#define CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_PROGRAM_H_

#include <math.h>

#include <cstdint>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/fused_attention_rows.h"
#include "kernels/cuda/fused_attention_tc_layout.h"
#include "kernels/cuda/tc_tile_ops.h"

namespace cloze::cuda::tc {

// The whole call: shape, the host-formed scale 1/√D, and the site's dropout.
struct Problem {
  int64_t batch, seq, hidden, heads;
  float scale;
  fused::HeadDropout site;
};

// Host side, for the launch and the emulation alike: the scale is the CPU's T(1) / sqrt(T(D))
// in float.
inline Problem make_problem(const cpu::AttentionShape& s, const cpu::DropoutSpec& dropout) {
  return {s.batch, s.seq, s.hidden, s.heads, 1.0f / sqrtf(float(s.head_dim())),
          fused::site_dropout(dropout, s.seq)};
}

// Block (head_index, row_block): head b·NH + h, own rows [first, first + rows).
struct BlockPlace {
  fused::HeadLayout head;
  fused::HeadDropout dropout;
  int64_t first;
  int rows;
};

CLOZE_HOST_DEVICE int rows_from(int64_t first, int64_t seq) {
  return seq - first < kTileRows ? static_cast<int>(seq - first) : kTileRows;
}

CLOZE_HOST_DEVICE BlockPlace block_place(const Problem& pr, int64_t head_index,
                                         int64_t row_block) {
  const int64_t first = row_block * kBlockRows;
  return {fused::head_layout(head_index, pr.seq, pr.hidden, pr.heads),
          pr.site.for_head(head_index), first, rows_from(first, pr.seq)};
}

// ---- Element phases: thread t of kThreads.

// dst (64, D) bf16 = rows [first, first + rows) of a strided fp32 tensor, element (r, d) at
// src[offset + (first + r)·stride + d], rounded; zero past `rows` (padding tiles multiply
// into the products, where a stale NaN would poison a whole strip).
template <int D>
CLOZE_HOST_DEVICE void stage_rows(Bf16* dst, const float* src, int64_t offset, int64_t stride,
                                  int64_t first, int rows, int t) {
  for (int e = t; e < kTileRows * D; e += kThreads) {
    const int r = e / D, d = e % D;
    dst[r * kLdRows<D> + d] =
        r < rows ? round_to_bf16(src[offset + (first + r) * stride + d]) : Bf16{0};
  }
}

// Key tile [first, first + rows): K and V rounded, and whether each key is real (0 past T).
template <int D>
CLOZE_HOST_DEVICE void stage_keys(Bf16* k, Bf16* v, int32_t* real, const float* qkv,
                                  const int32_t* key_mask, const BlockPlace& place,
                                  int64_t first, int rows, int t) {
  const fused::HeadLayout& h = place.head;
  stage_rows<D>(k, qkv, h.qkv_offset + h.hidden, 3 * h.hidden, first, rows, t);
  stage_rows<D>(v, qkv, h.qkv_offset + 2 * h.hidden, 3 * h.hidden, first, rows, t);
  if (t < kTileRows) real[t] = t < rows ? key_mask[h.mask_offset + first + t] : 0;
}

// Query tile [first, first + rows) with what backward needs: Q and dout rounded, lse and Δ
// (0 past T, where no probability is formed).
template <int D>
CLOZE_HOST_DEVICE void stage_queries(Bf16* q, Bf16* dout_tile, float* lse_tile, float* delta_tile,
                                     const float* qkv, const float* dout, const float* lse,
                                     const float* delta, const BlockPlace& place, int64_t first,
                                     int rows, int t) {
  const fused::HeadLayout& h = place.head;
  stage_rows<D>(q, qkv, h.qkv_offset, 3 * h.hidden, first, rows, t);
  stage_rows<D>(dout_tile, dout, h.out_offset, h.hidden, first, rows, t);
  if (t < kTileRows) {
    lse_tile[t] = t < rows ? lse[h.row_offset + first + t] : 0.0f;
    delta_tile[t] = t < rows ? delta[h.row_offset + first + t] : 0.0f;
  }
}

// ---- Product phases: warp w computes rows [16w, 16w + 16).

// scores (64, 64) = A (64, D) · Bᵀ with B (64, D) row-major: Q·Kᵀ, or dout·Vᵀ.
template <int D, class Ops>
CLOZE_HOST_DEVICE void product_with_transpose(float* scores, const Bf16* a, const Bf16* b, int w) {
  CLOZE_UNROLL
  for (int n = 0; n < kTileRows / kFragment; ++n) {
    typename Ops::Accumulator acc;
    Ops::fill(acc, 0.0f);
    mma_strip<Ops>(acc, Bf16Matrix<false>{a, kLdRows<D>}, Bf16Matrix<true>{b, kLdRows<D>},
                   w * kFragment, n * kFragment, D);
    Ops::store(scores + w * kFragment * kLdScores + n * kFragment, acc, kLdScores);
  }
}

// o (64, D) += probs (64, 64) · rows (64, D), o in shared memory.
template <int D, class Ops>
CLOZE_HOST_DEVICE void accumulate_product(float* o, const Bf16* probs, const Bf16* rows, int w) {
  CLOZE_UNROLL
  for (int n = 0; n < D / kFragment; ++n) {
    typename Ops::Accumulator acc;
    float* tile = o + w * kFragment * kLdOut<D> + n * kFragment;
    Ops::load(acc, tile, kLdOut<D>);
    mma_strip<Ops>(acc, Bf16Matrix<false>{probs, kLdProbs}, Bf16Matrix<false>{rows, kLdRows<D>},
                   w * kFragment, n * kFragment, kTileRows);
    Ops::store(tile, acc, kLdOut<D>);
  }
}

// A warp's (16, D) strip of a gradient, in fragments across the whole walk.
template <int D, class Ops>
struct StripAccumulators {
  typename Ops::Accumulator tile[D / kFragment];
};

template <int D, class Ops>
CLOZE_HOST_DEVICE void clear_strip(StripAccumulators<D, Ops>& strip) {
  CLOZE_UNROLL
  for (int n = 0; n < D / kFragment; ++n) Ops::fill(strip.tile[n], 0.0f);
}

// strip += probs[16w.., :] · rows (64, D), probs (64, 64) seen through `probs`'s layout: dQ
// += dS·K reads dS as stored (query × key); dV += Pdᵀ·dout and dK += dSᵀ·Q read the
// (query × key) buffers transposed (kColMajor).
template <int D, class Ops, bool kColMajor>
CLOZE_HOST_DEVICE void accumulate_strip(StripAccumulators<D, Ops>& strip,
                                        Bf16Matrix<kColMajor> probs, const Bf16* rows, int w) {
  CLOZE_UNROLL
  for (int n = 0; n < D / kFragment; ++n) {
    mma_strip<Ops>(strip.tile[n], probs, Bf16Matrix<false>{rows, kLdRows<D>}, w * kFragment,
                   n * kFragment, kTileRows);
  }
}

template <int D, class Ops>
CLOZE_HOST_DEVICE void store_strip(float* dst, StripAccumulators<D, Ops>& strip, int w) {
  CLOZE_UNROLL
  for (int n = 0; n < D / kFragment; ++n) {
    Ops::store(dst + w * kFragment * kLdOut<D> + n * kFragment, strip.tile[n], kLdOut<D>);
  }
}

// ---- Forward's row phase: thread r < 64 folds key tile [first_key, +64) into query row r's
// online softmax (the fp32 kernels' forward_row_tile, on a tile of S): rescales the row's
// sum and output to the new maximum, adds the tile's exp(s − max), and writes the row of
// P = keep·exp(s − max) rounded (zeros for padding and dropped keys).
template <int D>
CLOZE_HOST_DEVICE void forward_softmax_row(const ForwardSmem<D>& m, const Problem& pr,
                                           const BlockPlace& place, int64_t first_key, int r) {
  const float* s = m.s + r * kLdScores;
  Bf16* p = m.p + r * kLdProbs;
  float tile_max = -INFINITY;
  for (int c = 0; c < kTileRows; ++c) {
    if (m.real[c] && pr.scale * s[c] > tile_max) tile_max = pr.scale * s[c];
  }
  if (tile_max == -INFINITY) {  // only padding in this tile: nothing to add
    for (int c = 0; c < kTileRows; ++c) p[c] = Bf16{0};
    return;
  }
  const float old_max = m.row_max[r];
  const float new_max = tile_max > old_max ? tile_max : old_max;
  const float rescale = fused::exp_of(old_max - new_max);  // 0 on the first real tile
  float sum = m.row_sum[r] * rescale;
  for (int c = 0; c < kTileRows; ++c) {
    if (!m.real[c]) {
      p[c] = Bf16{0};
      continue;
    }
    const float e = fused::exp_of(pr.scale * s[c] - new_max);
    sum += e;
    p[c] = place.dropout.keeps(place.first + r, first_key + c) ? round_to_bf16(e) : Bf16{0};
  }
  float* o = m.o + r * kLdOut<D>;
  for (int d = 0; d < D; ++d) o[d] *= rescale;
  m.row_max[r] = new_max;
  m.row_sum[r] = sum;
}

// ---- Backward's element phase, for both kernels: element (r, c) of a query tile × key tile,
// r < query_rows and real[c] for a probability, else 0:
//   P = exp(scale·s − lse),  dP = keep·dropout_scale·(dout·v),  dS = P·(dP − Δ),
//   Pd = keep·dropout_scale·P (only where pd is not null).
CLOZE_HOST_DEVICE void score_gradients(Bf16* pd, Bf16* ds, const float* s, const float* dp,
                                       const float* lse, const float* delta, const int32_t* real,
                                       int query_rows, int64_t first_query, int64_t first_key,
                                       float scale, const fused::HeadDropout& dropout, int t) {
  for (int e = t; e < kTileRows * kTileRows; e += kThreads) {
    const int r = e / kTileRows, c = e % kTileRows;
    const float prob =
        r < query_rows && real[c] ? fused::exp_of(scale * s[r * kLdScores + c] - lse[r]) : 0.0f;
    const bool keep = prob != 0.0f && dropout.keeps(first_query + r, first_key + c);
    const float dprob = keep ? dropout.scale * dp[r * kLdScores + c] : 0.0f;
    ds[r * kLdProbs + c] = prob != 0.0f ? round_to_bf16(prob * (dprob - delta[r])) : Bf16{0};
    if (pd) pd[r * kLdProbs + c] = keep ? round_to_bf16(prob * dropout.scale) : Bf16{0};
  }
}

// ---- The programs. `smem` holds the program's layout's kBytes (128-byte aligned).

template <int D, class Ops, class Exec>
CLOZE_HOST_DEVICE void forward_program(const Exec& exec, char* smem, float* out, float* lse,
                                       const float* qkv, const int32_t* key_mask,
                                       const Problem& pr, int64_t head_index, int64_t row_block) {
  const ForwardSmem<D> m = ForwardSmem<D>::in(smem);
  const BlockPlace place = block_place(pr, head_index, row_block);
  exec.threads([&](int t) {
    stage_rows<D>(m.q, qkv, place.head.qkv_offset, 3 * pr.hidden, place.first, place.rows, t);
    for (int e = t; e < kBlockRows * D; e += kThreads) m.o[e / D * kLdOut<D> + e % D] = 0.0f;
    if (t < kBlockRows) m.row_max[t] = -INFINITY, m.row_sum[t] = 0.0f;
  });
  for (int64_t first = 0; first < pr.seq; first += kTileRows) {
    const int rows = rows_from(first, pr.seq);
    exec.threads([&](int t) { stage_keys<D>(m.k, m.v, m.real, qkv, key_mask, place, first, rows, t); });
    exec.warps([&](int w) { product_with_transpose<D, Ops>(m.s, m.q, m.k, w); });
    exec.threads([&](int t) {
      if (t < kBlockRows) forward_softmax_row<D>(m, pr, place, first, t);
    });
    exec.warps([&](int w) { accumulate_product<D, Ops>(m.o, m.p, m.v, w); });
  }
  // lse = max + log(sum); a row with no real key has sum 0: out 0 and lse −inf, as the CPU.
  exec.threads([&](int t) {
    if (t >= kBlockRows) return;
    const bool any = m.row_sum[t] > 0.0f;
    m.row_factor[t] = any ? place.dropout.scale / m.row_sum[t] : 0.0f;
    if (t < place.rows) {
      lse[place.head.row_offset + place.first + t] =
          any ? m.row_max[t] + fused::log_of(m.row_sum[t]) : -INFINITY;
    }
  });
  exec.threads([&](int t) {
    for (int e = t; e < kBlockRows * D; e += kThreads) {
      const int r = e / D, d = e % D;
      if (r < place.rows) {
        out[place.head.out_row(place.first + r) + d] = m.o[r * kLdOut<D> + d] * m.row_factor[r];
      }
    }
  });
}

// dQ of the block's queries: ADDS scale·Σ_j dS_ij k_j into dqkv's Q columns.
template <int D, class Ops, class Exec>
CLOZE_HOST_DEVICE void query_grad_program(const Exec& exec, char* smem, float* dqkv,
                                          const float* dout, const float* qkv, const float* lse,
                                          const float* delta, const int32_t* key_mask,
                                          const Problem& pr, int64_t head_index,
                                          int64_t row_block) {
  const QueryGradSmem<D> m = QueryGradSmem<D>::in(smem);
  const BlockPlace place = block_place(pr, head_index, row_block);
  typename Exec::template PerWarp<StripAccumulators<D, Ops>> dq;
  exec.threads([&](int t) {
    stage_queries<D>(m.q, m.dout, m.lse, m.delta, qkv, dout, lse, delta, place, place.first,
                     place.rows, t);
  });
  exec.warps([&](int w) { clear_strip<D, Ops>(dq[w]); });
  for (int64_t first = 0; first < pr.seq; first += kTileRows) {
    const int rows = rows_from(first, pr.seq);
    exec.threads([&](int t) { stage_keys<D>(m.k, m.v, m.real, qkv, key_mask, place, first, rows, t); });
    exec.warps([&](int w) {
      product_with_transpose<D, Ops>(m.s, m.q, m.k, w);
      product_with_transpose<D, Ops>(m.dp, m.dout, m.v, w);
    });
    exec.threads([&](int t) {
      score_gradients(nullptr, m.ds, m.s, m.dp, m.lse, m.delta, m.real, place.rows, place.first,
                      first, pr.scale, place.dropout, t);
    });
    exec.warps([&](int w) {
      accumulate_strip<D, Ops>(dq[w], Bf16Matrix<false>{m.ds, kLdProbs}, m.k, w);
    });
  }
  exec.warps([&](int w) { store_strip<D, Ops>(m.dq, dq[w], w); });
  exec.threads([&](int t) {
    for (int e = t; e < kBlockRows * D; e += kThreads) {
      const int r = e / D, d = e % D;
      if (r < place.rows) {
        dqkv[place.head.qkv_row(place.first + r) + d] += pr.scale * m.dq[r * kLdOut<D> + d];
      }
    }
  });
}

// dK and dV of the block's keys: ADDS scale·Σ_i dS_ij q_i and Σ_i Pd_ij dout_i into dqkv's K
// and V columns (padding keys: nothing, their P being 0).
template <int D, class Ops, class Exec>
CLOZE_HOST_DEVICE void key_grad_program(const Exec& exec, char* smem, float* dqkv,
                                        const float* dout, const float* qkv, const float* lse,
                                        const float* delta, const int32_t* key_mask,
                                        const Problem& pr, int64_t head_index,
                                        int64_t row_block) {
  const KeyGradSmem<D> m = KeyGradSmem<D>::in(smem);
  const BlockPlace place = block_place(pr, head_index, row_block);
  typename Exec::template PerWarp<StripAccumulators<D, Ops>> dk, dv;
  exec.threads([&](int t) {
    stage_keys<D>(m.k, m.v, m.real, qkv, key_mask, place, place.first, place.rows, t);
  });
  exec.warps([&](int w) {
    clear_strip<D, Ops>(dk[w]);
    clear_strip<D, Ops>(dv[w]);
  });
  for (int64_t first = 0; first < pr.seq; first += kTileRows) {
    const int rows = rows_from(first, pr.seq);
    exec.threads([&](int t) {
      stage_queries<D>(m.q, m.dout, m.lse, m.delta, qkv, dout, lse, delta, place, first, rows, t);
    });
    exec.warps([&](int w) {
      product_with_transpose<D, Ops>(m.s, m.q, m.k, w);
      product_with_transpose<D, Ops>(m.dp, m.dout, m.v, w);
    });
    exec.threads([&](int t) {
      score_gradients(m.pd, m.ds, m.s, m.dp, m.lse, m.delta, m.real, rows, first, place.first,
                      pr.scale, place.dropout, t);
    });
    exec.warps([&](int w) {
      accumulate_strip<D, Ops>(dv[w], Bf16Matrix<true>{m.pd, kLdProbs}, m.dout, w);
      accumulate_strip<D, Ops>(dk[w], Bf16Matrix<true>{m.ds, kLdProbs}, m.q, w);
    });
  }
  exec.warps([&](int w) {
    store_strip<D, Ops>(m.dk, dk[w], w);
    store_strip<D, Ops>(m.dv, dv[w], w);
  });
  exec.threads([&](int t) {
    for (int e = t; e < kBlockRows * D; e += kThreads) {
      const int r = e / D, d = e % D;
      if (r < place.rows && m.real[r]) {
        const int64_t row = place.head.qkv_row(place.first + r);
        dqkv[row + pr.hidden + d] += pr.scale * m.dk[r * kLdOut<D> + d];
        dqkv[row + 2 * pr.hidden + d] += m.dv[r * kLdOut<D> + d];
      }
    }
  });
}

}  // namespace cloze::cuda::tc

#endif  // CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_PROGRAM_H_
