// The per-row math of the fused attention (fused_attention.h), shared by the CUDA kernels
// (fused_attention.cu) and their host emulation (testing/fused_attention_emulation.h), so
// the CPU test that runs the emulation checks the very functions the GPU runs.
//
// The kernels give each thread one row: a query row (forward, dQ) or a key row (dK, dV).
// A block of kRowsPerBlock threads walks the other side of the attention in tiles of kTile
// rows, staged in shared memory by stage_* below (one call per tile element, spread over
// the block's threads), and each thread folds each tile into its row with *_row_tile.
// Everything here is plain C++ that nvcc also compiles for the device (CLOZE_HOST_DEVICE):
// no CUDA headers, no std:: calls the device lacks (the math goes through <math.h>'s
// expf/exp, logf/log, which both sides have). T is float on the GPU; the emulation also
// runs it in double to check the algorithm apart from float rounding.
//
// Layout and semantics are cpu::attention_*'s (kernels/cpu/attention.h): head h of sequence
// b reads columns [h·D, (h+1)·D) of Q, K and V in qkv (B, T, 3C); probabilities are the
// masked softmax of scale·Q·Kᵀ; dropout element ((b·NH + h)·T + i)·T + j uses the CPU's
// Philox mask (kept iff uniform >= p, kept scaled by the host-formed float 1/(1 − p)).
#ifndef CLOZE_KERNELS_CUDA_FUSED_ATTENTION_ROWS_H_
#define CLOZE_KERNELS_CUDA_FUSED_ATTENTION_ROWS_H_

#include <math.h>

#include <cstdint>

#include "kernels/cpu/dropout.h"
#include "kernels/philox.h"

namespace cloze::cuda::fused {

// Threads (rows) per block and rows per staged tile. 64 rows keep several blocks per SM at
// seq 128; a 32-row tile of two D = 128 operands is 32 KiB, under the 48 KiB of static
// shared memory a block may have without opting in.
constexpr int kRowsPerBlock = 64;
constexpr int kTile = 32;

CLOZE_HOST_DEVICE float exp_of(float x) { return expf(x); }
CLOZE_HOST_DEVICE double exp_of(double x) { return exp(x); }
CLOZE_HOST_DEVICE float log_of(float x) { return logf(x); }
CLOZE_HOST_DEVICE double log_of(double x) { return log(x); }

template <int D, typename T>
CLOZE_HOST_DEVICE T dot(const T* a, const T* b) {
  T sum = T(0);
  for (int d = 0; d < D; ++d) sum += a[d] * b[d];
  return sum;
}

// Where one head (b, h) lives in the global tensors: row r of its Q starts at
// q + r·row_stride (K at +hidden, V at +2·hidden), row r of out at out_row(r), its
// log-sum-exps and Δ at lse + r, and its sequence's key mask at key_mask.
struct HeadLayout {
  int64_t seq = 0, hidden = 0;
  int64_t qkv_offset = 0;   // element of qkv where Q's row 0 of this head starts
  int64_t out_offset = 0;   // element of out (and dout) where row 0 of this head starts
  int64_t row_offset = 0;   // (b·NH + h)·T: index of the head's row 0 in lse and Δ
  int64_t mask_offset = 0;  // b·T
  CLOZE_HOST_DEVICE int64_t qkv_row(int64_t r) const { return qkv_offset + r * 3 * hidden; }
  CLOZE_HOST_DEVICE int64_t out_row(int64_t r) const { return out_offset + r * hidden; }
};

// Head `head_index` = b·NH + h of the (B, NH) grid of heads, D = hidden / heads.
CLOZE_HOST_DEVICE HeadLayout head_layout(int64_t head_index, int64_t seq, int64_t hidden,
                                         int64_t heads) {
  const int64_t b = head_index / heads, h = head_index % heads, d = hidden / heads;
  HeadLayout layout;
  layout.seq = seq;
  layout.hidden = hidden;
  layout.qkv_offset = b * seq * 3 * hidden + h * d;
  layout.out_offset = b * seq * hidden + h * d;
  layout.row_offset = head_index * seq;
  layout.mask_offset = b * seq;
  return layout;
}

// The dropout on one head's (T, T) probabilities: the CPU's mask, element (i, j) of the
// head being element first + i·T + j of the site's mask. `active` false means no dropout:
// every element kept, scale 1.
struct HeadDropout {
  bool active;
  float p;
  float scale;  // 1 / (1 − p), formed on the host in float as cpu::dropout_scale does
  uint64_t seed, stream;
  uint64_t first;  // for the site: its first_index; for a head: + (b·NH + h)·T·T
  int64_t seq;

  // This site's dropout on head b·NH + h.
  CLOZE_HOST_DEVICE HeadDropout for_head(int64_t head_index) const {
    HeadDropout head = *this;
    head.first += static_cast<uint64_t>(head_index * seq * seq);
    return head;
  }

  CLOZE_HOST_DEVICE bool keeps(int64_t i, int64_t j) const {
    if (!active) return true;
    const uint64_t index = first + static_cast<uint64_t>(i * seq + j);
    return uniform_from_word(philox_word(seed, stream, index)) >= p;
  }
};

// The site's dropout (for_head gives each head's) from the CPU's spec, host side.
inline HeadDropout site_dropout(const cpu::DropoutSpec& spec, int64_t seq) {
  const bool active = spec.active();
  return {active,    spec.p,      active ? 1.0f / (1.0f - spec.p) : 1.0f,
          spec.seed, spec.stream, spec.first_index,
          seq};
}

// ---- Staging: one call per element of a tile, e in [0, kTile·D); rows past `count` (the
// tile's end beyond T) are left unwritten and never read.

// kTile key/value rows (forward and dQ) and whether each key is a real token.
template <int D, typename T>
struct KeyValueTile {
  T k[kTile][D];
  T v[kTile][D];
  int32_t real[kTile];
};

template <int D, typename T>
CLOZE_HOST_DEVICE void stage_key_value(KeyValueTile<D, T>& tile, const T* qkv,
                                       const int32_t* key_mask, const HeadLayout& head,
                                       int64_t first_key, int count, int e) {
  const int j = e / D, d = e % D;
  if (j >= count) return;
  const T* row = qkv + head.qkv_row(first_key + j);
  tile.k[j][d] = row[head.hidden + d];
  tile.v[j][d] = row[2 * head.hidden + d];
  if (d == 0) tile.real[j] = key_mask[head.mask_offset + first_key + j];
}

// kTile query rows (dK/dV) with what backward needs of each: Q, dout, lse and Δ.
template <int D, typename T>
struct QueryTile {
  T q[kTile][D];
  T dout[kTile][D];
  T lse[kTile];
  T delta[kTile];
};

template <int D, typename T>
CLOZE_HOST_DEVICE void stage_query(QueryTile<D, T>& tile, const T* qkv, const T* dout,
                                   const T* lse, const T* delta, const HeadLayout& head,
                                   int64_t first_query, int count, int e) {
  const int i = e / D, d = e % D;
  if (i >= count) return;
  tile.q[i][d] = qkv[head.qkv_row(first_query + i) + d];
  tile.dout[i][d] = dout[head.out_row(first_query + i) + d];
  if (d == 0) {
    tile.lse[i] = lse[head.row_offset + first_query + i];
    tile.delta[i] = delta[head.row_offset + first_query + i];
  }
}

// Rows of a tile starting at `first` that exist in a sequence of `seq`.
CLOZE_HOST_DEVICE int tile_count(int64_t first, int64_t seq) {
  return seq - first < kTile ? static_cast<int>(seq - first) : kTile;
}

// ---- Forward: one query row's online softmax. After all tiles,
//   max = the largest scaled score over real keys (−inf if none),
//   sum = Σ_j exp(s_j − max) over real keys,
//   acc = Σ_j keep_ij · exp(s_j − max) · v_j,
// so out = acc · scale_dropout / sum and lse = max + log(sum).

template <int D, typename T>
struct ForwardRow {
  T q[D];
  T acc[D];
  T max;
  T sum;
};

template <int D, typename T>
CLOZE_HOST_DEVICE void forward_row_begin(ForwardRow<D, T>& row, const T* qkv,
                                         const HeadLayout& head, int64_t i) {
  const T* q = qkv + head.qkv_row(i);
  for (int d = 0; d < D; ++d) row.q[d] = q[d], row.acc[d] = T(0);
  row.max = T(-INFINITY);
  row.sum = T(0);
}

// Folds keys [first_key, first_key + count) into query row i: rescales what is summed so
// far once to the new maximum, then adds the tile's terms.
template <int D, typename T>
CLOZE_HOST_DEVICE void forward_row_tile(ForwardRow<D, T>& row, const KeyValueTile<D, T>& tile,
                                        int count, T scale, const HeadDropout& dropout,
                                        int64_t i, int64_t first_key) {
  T scores[kTile];
  T tile_max = T(-INFINITY);
  for (int j = 0; j < count; ++j) {
    if (!tile.real[j]) continue;
    scores[j] = scale * dot<D>(row.q, tile.k[j]);
    if (scores[j] > tile_max) tile_max = scores[j];
  }
  if (tile_max == T(-INFINITY)) return;  // only padding here: nothing to add
  const T new_max = tile_max > row.max ? tile_max : row.max;
  // exp(−inf) = 0 on the first real tile, where acc and sum are still 0.
  const T rescale = exp_of(row.max - new_max);
  row.sum *= rescale;
  for (int d = 0; d < D; ++d) row.acc[d] *= rescale;
  for (int j = 0; j < count; ++j) {
    if (!tile.real[j]) continue;
    const T e = exp_of(scores[j] - new_max);
    row.sum += e;
    if (!dropout.keeps(i, first_key + j)) continue;
    for (int d = 0; d < D; ++d) row.acc[d] += e * tile.v[j][d];
  }
  row.max = new_max;
}

// out row i (overwritten) and lse[i]. A row with no real key (its sequence is all padding)
// has probabilities all 0 on the CPU: out 0, and lse −inf (log of an empty sum).
template <int D, typename T>
CLOZE_HOST_DEVICE void forward_row_finish(const ForwardRow<D, T>& row, T* out, T* lse,
                                          const HeadLayout& head, const HeadDropout& dropout,
                                          int64_t i) {
  const bool any = row.sum > T(0);
  const T factor = any ? T(dropout.scale) / row.sum : T(0);
  T* o = out + head.out_row(i);
  for (int d = 0; d < D; ++d) o[d] = row.acc[d] * factor;
  lse[head.row_offset + i] = any ? row.max + log_of(row.sum) : T(-INFINITY);
}

// ---- Backward. With P the probabilities, Pd = P ⊙ keep · scale_dropout what multiplies V:
//   dPd_ij = dout_i · v_j,  dP_ij = keep_ij · scale_dropout · dPd_ij,
//   dS_ij = P_ij · (dP_ij − Δ_i),  Δ_i = Σ_j dP_ij · P_ij = Σ_j dPd_ij · Pd_ij = dout_i · out_i,
//   dQ_i += scale · Σ_j dS_ij k_j,  dK_j += scale · Σ_i dS_ij q_i,  dV_j += Σ_i Pd_ij dout_i,
// with P_ij = exp(s_ij − lse_i) for a real key j and 0 for padding.

// Δ_i of row i, into delta (B·NH·T).
template <int D, typename T>
CLOZE_HOST_DEVICE void delta_row(T* delta, const T* dout, const T* out, const HeadLayout& head,
                                 int64_t i) {
  delta[head.row_offset + i] = dot<D>(dout + head.out_row(i), out + head.out_row(i));
}

// dQ of query row i, summed over key tiles, added to dqkv at the end.
template <int D, typename T>
struct QueryGradRow {
  T q[D];
  T dout[D];
  T dq[D];  // Σ_j dS_ij k_j, times scale at the end
  T lse;
  T delta;
};

template <int D, typename T>
CLOZE_HOST_DEVICE void query_grad_row_begin(QueryGradRow<D, T>& row, const T* qkv, const T* dout,
                                            const T* lse, const T* delta, const HeadLayout& head,
                                            int64_t i) {
  const T* q = qkv + head.qkv_row(i);
  const T* g = dout + head.out_row(i);
  for (int d = 0; d < D; ++d) row.q[d] = q[d], row.dout[d] = g[d], row.dq[d] = T(0);
  row.lse = lse[head.row_offset + i];
  row.delta = delta[head.row_offset + i];
}

template <int D, typename T>
CLOZE_HOST_DEVICE void query_grad_row_tile(QueryGradRow<D, T>& row, const KeyValueTile<D, T>& tile,
                                           int count, T scale, const HeadDropout& dropout,
                                           int64_t i, int64_t first_key) {
  for (int j = 0; j < count; ++j) {
    if (!tile.real[j]) continue;  // P = 0; also skips every key of an all-padding row
    const T p = exp_of(scale * dot<D>(row.q, tile.k[j]) - row.lse);
    const T dp = dropout.keeps(i, first_key + j) ? T(dropout.scale) * dot<D>(row.dout, tile.v[j])
                                                 : T(0);
    const T ds = p * (dp - row.delta);
    for (int d = 0; d < D; ++d) row.dq[d] += ds * tile.k[j][d];
  }
}

// ADDS scale · dQ_i into dqkv's Q columns of row i.
template <int D, typename T>
CLOZE_HOST_DEVICE void query_grad_row_finish(const QueryGradRow<D, T>& row, T* dqkv, T scale,
                                             const HeadLayout& head, int64_t i) {
  T* dq = dqkv + head.qkv_row(i);
  for (int d = 0; d < D; ++d) dq[d] += scale * row.dq[d];
}

// dK and dV of key row j, summed over query tiles, added to dqkv at the end.
template <int D, typename T>
struct KeyGradRow {
  T k[D];
  T v[D];
  T dk[D];  // Σ_i dS_ij q_i, times scale at the end
  T dv[D];
  bool real;  // a padding key has P = 0 in every row: no gradient
};

template <int D, typename T>
CLOZE_HOST_DEVICE void key_grad_row_begin(KeyGradRow<D, T>& row, const T* qkv,
                                          const int32_t* key_mask, const HeadLayout& head,
                                          int64_t j) {
  const T* r = qkv + head.qkv_row(j);
  for (int d = 0; d < D; ++d) {
    row.k[d] = r[head.hidden + d], row.v[d] = r[2 * head.hidden + d];
    row.dk[d] = T(0), row.dv[d] = T(0);
  }
  row.real = key_mask[head.mask_offset + j] != 0;
}

template <int D, typename T>
CLOZE_HOST_DEVICE void key_grad_row_tile(KeyGradRow<D, T>& row, const QueryTile<D, T>& tile,
                                         int count, T scale, const HeadDropout& dropout,
                                         int64_t j, int64_t first_query) {
  if (!row.real) return;
  for (int i = 0; i < count; ++i) {
    // lse is finite: this real key is in every row's sum.
    const T p = exp_of(scale * dot<D>(tile.q[i], row.k) - tile.lse[i]);
    const bool keep = dropout.keeps(first_query + i, j);
    const T pd = keep ? p * T(dropout.scale) : T(0);
    const T dp = keep ? T(dropout.scale) * dot<D>(tile.dout[i], row.v) : T(0);
    const T ds = p * (dp - tile.delta[i]);
    for (int d = 0; d < D; ++d) {
      row.dv[d] += pd * tile.dout[i][d];
      row.dk[d] += ds * tile.q[i][d];
    }
  }
}

// ADDS scale · dK_j and dV_j into dqkv's K and V columns of row j.
template <int D, typename T>
CLOZE_HOST_DEVICE void key_grad_row_finish(const KeyGradRow<D, T>& row, T* dqkv, T scale,
                                           const HeadLayout& head, int64_t j) {
  T* r = dqkv + head.qkv_row(j);
  for (int d = 0; d < D; ++d) {
    r[head.hidden + d] += scale * row.dk[d];
    r[2 * head.hidden + d] += row.dv[d];
  }
}

}  // namespace cloze::cuda::fused

#endif  // CLOZE_KERNELS_CUDA_FUSED_ATTENTION_ROWS_H_
