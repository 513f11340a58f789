// Shared-memory layouts of the tensor-core attention's three block programs
// (fused_attention_tc_program.h): byte offsets fixed at compile time, so the kernels' launch
// (dynamic shared memory), the host emulation's buffer and the header's stated budget
// (fused_attention_tc.h, checked by the CPU test) all read one number per program and D.
//
// A block owns kBlockRows rows (queries, or keys for dK/dV) and walks the other side in
// tiles of kTileRows rows. Row strides are padded (bf16 rows by 8 elements, float rows by 4)
// to spread WMMA's and the row phases' accesses over the banks; every region starts on a
// 128-byte boundary, so every 16×16 tile pointer meets WMMA's 32-byte alignment (a tile
// starts at row 16·a and column 16·b: 32·ld·a + 32·b bytes for bf16, 64·ld·a + 64·b for
// float), and every ld is a multiple of 8 (bf16) or 4 (float) elements, as WMMA requires.
// Plain C++: the host emulation includes it.
#ifndef CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_LAYOUT_H_
#define CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_LAYOUT_H_

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/bf16.h"
#include "kernels/cuda/tc_tile_ops.h"

namespace cloze::cuda::tc {

constexpr int kBlockRows = 64;  // kWarps strips of 16 rows
constexpr int kTileRows = 64;
static_assert(kBlockRows == kWarps * kFragment, "one 16-row strip per warp");
static_assert(kBlockRows == kTileRows, "the dK/dV program stages its own keys as a key tile");

// Row strides, in elements.
template <int D>
constexpr int kLdRows = D + 8;                  // bf16 (64, D): Q, K, V, dout
constexpr int kLdScores = kTileRows + 4;        // float (64, 64): S, dout·Vᵀ
constexpr int kLdProbs = kTileRows + 8;         // bf16 (64, 64): P, dropped P, dS
template <int D>
constexpr int kLdOut = D + 4;                   // float (64, D): running output, dQ, dK, dV

constexpr size_t kRegionAlign = 128;
constexpr size_t after(size_t offset, size_t bytes) {
  return offset + (bytes + kRegionAlign - 1) / kRegionAlign * kRegionAlign;
}
template <int D>
constexpr size_t kRowsBytes = sizeof(Bf16) * kBlockRows * kLdRows<D>;
constexpr size_t kScoresBytes = sizeof(float) * kBlockRows * kLdScores;
constexpr size_t kProbsBytes = sizeof(Bf16) * kBlockRows * kLdProbs;
template <int D>
constexpr size_t kOutBytes = sizeof(float) * kBlockRows * kLdOut<D>;
constexpr size_t kRowFloatsBytes = sizeof(float) * kBlockRows;

constexpr size_t larger(size_t a, size_t b) { return a > b ? a : b; }

template <class T>
CLOZE_HOST_DEVICE T* region(char* base, size_t offset) {
  return reinterpret_cast<T*>(base + offset);
}

// Forward: the block's queries, the key tile, S, P, and the running output with each row's
// online-softmax state.
template <int D>
struct ForwardSmem {
  static constexpr size_t kQ = 0, kK = after(kQ, kRowsBytes<D>), kV = after(kK, kRowsBytes<D>),
                          kO = after(kV, kRowsBytes<D>), kS = after(kO, kOutBytes<D>),
                          kP = after(kS, kScoresBytes), kMax = after(kP, kProbsBytes),
                          kSum = after(kMax, kRowFloatsBytes),
                          kFactor = after(kSum, kRowFloatsBytes),
                          kReal = after(kFactor, kRowFloatsBytes),
                          kBytes = after(kReal, sizeof(int32_t) * kTileRows);
  Bf16 *q, *k, *v;
  float* o;  // (64, D): Σ_j keep·exp(s_j − max)·v_j so far
  float* s;  // (64, 64) query × key: Q·Kᵀ, unscaled
  Bf16* p;   // (64, 64): keep·exp(s − max), rounded
  float *row_max, *row_sum, *row_factor;
  int32_t* real;  // key of the tile is a real token (0 past T)

  CLOZE_HOST_DEVICE static ForwardSmem in(char* base) {
    return {region<Bf16>(base, kQ),      region<Bf16>(base, kK),      region<Bf16>(base, kV),
            region<float>(base, kO),     region<float>(base, kS),     region<Bf16>(base, kP),
            region<float>(base, kMax),   region<float>(base, kSum),   region<float>(base, kFactor),
            region<int32_t>(base, kReal)};
  }
};

// dQ: the block's queries with dout, lse and Δ for the whole walk; per key tile K, V, S,
// dout·Vᵀ and dS. At the end dQ (float) is stored over the key tile's regions.
template <int D>
struct QueryGradSmem {
  static constexpr size_t kQ = 0, kDout = after(kQ, kRowsBytes<D>),
                          kLse = after(kDout, kRowsBytes<D>), kDelta = after(kLse, kRowFloatsBytes),
                          kTile = after(kDelta, kRowFloatsBytes),  // per-tile regions from here
      kK = kTile, kV = after(kK, kRowsBytes<D>), kS = after(kV, kRowsBytes<D>),
                          kDp = after(kS, kScoresBytes), kDs = after(kDp, kScoresBytes),
                          kReal = after(kDs, kProbsBytes),
                          kTileEnd = after(kReal, sizeof(int32_t) * kTileRows),
                          kDq = kTile, kBytes = larger(kTileEnd, after(kDq, kOutBytes<D>));
  Bf16 *q, *dout;
  float *lse, *delta;
  Bf16 *k, *v;
  float *s, *dp;  // (64, 64) query × key: Q·Kᵀ and dout·Vᵀ
  Bf16* ds;       // (64, 64): P ⊙ (dP − Δ), rounded
  int32_t* real;
  float* dq;  // (64, D), only after the walk

  CLOZE_HOST_DEVICE static QueryGradSmem in(char* base) {
    return {region<Bf16>(base, kQ),    region<Bf16>(base, kDout),   region<float>(base, kLse),
            region<float>(base, kDelta), region<Bf16>(base, kK),    region<Bf16>(base, kV),
            region<float>(base, kS),   region<float>(base, kDp),    region<Bf16>(base, kDs),
            region<int32_t>(base, kReal), region<float>(base, kDq)};
  }
};

// dK and dV: the block's keys for the whole walk; per query tile Q, dout, lse, Δ, S,
// dout·Vᵀ, the dropped probabilities and dS. At the end dK and dV are stored over the query
// tile's regions.
template <int D>
struct KeyGradSmem {
  static constexpr size_t kK = 0, kV = after(kK, kRowsBytes<D>), kReal = after(kV, kRowsBytes<D>),
                          kTile = after(kReal, sizeof(int32_t) * kBlockRows),
                          kQ = kTile, kDout = after(kQ, kRowsBytes<D>),
                          kLse = after(kDout, kRowsBytes<D>), kDelta = after(kLse, kRowFloatsBytes),
                          kS = after(kDelta, kRowFloatsBytes), kDp = after(kS, kScoresBytes),
                          kPd = after(kDp, kScoresBytes), kDs = after(kPd, kProbsBytes),
                          kTileEnd = after(kDs, kProbsBytes), kDk = kTile,
                          kDv = after(kDk, kOutBytes<D>),
                          kBytes = larger(kTileEnd, after(kDv, kOutBytes<D>));
  Bf16 *k, *v;
  int32_t* real;  // the block's keys
  Bf16 *q, *dout;
  float *lse, *delta;
  float *s, *dp;  // (64, 64) query × key
  Bf16 *pd, *ds;  // (64, 64): keep·P/(1 − p) and P ⊙ (dP − Δ), rounded
  float *dk, *dv;  // (64, D) key × D, only after the walk

  CLOZE_HOST_DEVICE static KeyGradSmem in(char* base) {
    return {region<Bf16>(base, kK),     region<Bf16>(base, kV),      region<int32_t>(base, kReal),
            region<Bf16>(base, kQ),     region<Bf16>(base, kDout),   region<float>(base, kLse),
            region<float>(base, kDelta), region<float>(base, kS),    region<float>(base, kDp),
            region<Bf16>(base, kPd),    region<Bf16>(base, kDs),     region<float>(base, kDk),
            region<float>(base, kDv)};
  }
};

}  // namespace cloze::cuda::tc

#endif  // CLOZE_KERNELS_CUDA_FUSED_ATTENTION_TC_LAYOUT_H_
