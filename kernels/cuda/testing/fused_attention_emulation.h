// The fused attention kernels (fused_attention.cu) replayed on the host: the same grid
// (block (x, y) = head x, rows [y·kRowsPerBlock, (y+1)·kRowsPerBlock)), the same staging
// calls per tile element, and the same row functions per thread, with each thread's row
// state kept across tiles as the kernels keep it in registers. Only the barriers vanish:
// the host stages a whole tile before any thread reads it, which is what __syncthreads
// guarantees on the GPU. So a CPU test of these loops checks the kernels' math, indexing,
// tiling and masking; only the CUDA mechanics stay for the GPU test.
//
// T = float follows the GPU's arithmetic (up to expf and FMA contraction); T = double
// checks the algorithm itself against the CPU's double reference. Pointers are host memory
// with the layouts of fused_attention.h. Test-only; header-only.
#ifndef CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_EMULATION_H_
#define CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_EMULATION_H_

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/fused_attention_rows.h"

namespace cloze::cuda::testing {

using fused::kRowsPerBlock;
using fused::kTile;

struct EmulatedGrid {
  int64_t heads;       // gridDim.x = B·NH
  int64_t row_blocks;  // gridDim.y = ⌈T / kRowsPerBlock⌉
};

inline EmulatedGrid emulated_grid(const AttentionShape& s) {
  return {s.batch * s.heads, (s.seq + kRowsPerBlock - 1) / kRowsPerBlock};
}

// As the kernels' host side forms it: 1 / sqrt(D) in T (float on the GPU).
template <typename T>
T emulated_scale(int64_t d) {
  return T(1) / std::sqrt(T(d));
}

// Calls block(head, rows_begin) for every block, and within it the threads' rows.
template <typename Block>
void for_each_block(const AttentionShape& s, Block block) {
  const EmulatedGrid grid = emulated_grid(s);
  for (int64_t x = 0; x < grid.heads; ++x) {
    for (int64_t y = 0; y < grid.row_blocks; ++y) block(x, y * kRowsPerBlock);
  }
}

// The kernels' walk_tiles, without barriers: each tile wholly staged (what the first
// __syncthreads waits for) before process(first, count) runs the block's threads on it.
template <int D, typename Stage, typename Process>
void walk_tiles(int64_t seq, Stage stage, Process process) {
  for (int64_t first = 0; first < seq; first += kTile) {
    const int count = fused::tile_count(first, seq);
    for (int e = 0; e < kTile * D; ++e) stage(first, count, e);
    process(first, count);
  }
}

// Calls row(t, i) for each thread t of the block at first_row that owns a row i < T (the
// kernels' `owns`), with rows[t] standing for that thread's registers.
template <typename Row>
void for_each_owned_row(const AttentionShape& s, int64_t first_row, Row row) {
  for (int t = 0; t < kRowsPerBlock; ++t) {
    if (first_row + t < s.seq) row(t, first_row + t);
  }
}

template <int D, typename T>
void emulate_forward(T* out, T* lse, const T* qkv, const int32_t* key_mask,
                     const AttentionShape& s, const DropoutSpec& spec) {
  const T scale = emulated_scale<T>(D);
  const fused::HeadDropout site = fused::site_dropout(spec, s.seq);
  for_each_block(s, [&](int64_t x, int64_t first_row) {
    const fused::HeadLayout head = fused::head_layout(x, s.seq, s.hidden, s.heads);
    const fused::HeadDropout dropout = site.for_head(x);
    auto tile = std::make_unique<fused::KeyValueTile<D, T>>();  // the block's shared memory
    auto rows = std::make_unique<fused::ForwardRow<D, T>[]>(kRowsPerBlock);  // registers
    for_each_owned_row(s, first_row, [&](int t, int64_t i) {
      fused::forward_row_begin(rows[t], qkv, head, i);
    });
    walk_tiles<D>(
        s.seq,
        [&](int64_t first, int count, int e) {
          fused::stage_key_value(*tile, qkv, key_mask, head, first, count, e);
        },
        [&](int64_t first, int count) {
          for_each_owned_row(s, first_row, [&](int t, int64_t i) {
            fused::forward_row_tile(rows[t], *tile, count, scale, dropout, i, first);
          });
        });
    for_each_owned_row(s, first_row, [&](int t, int64_t i) {
      fused::forward_row_finish(rows[t], out, lse, head, dropout, i);
    });
  });
}

template <int D, typename T>
void emulate_backward(T* dqkv, const T* dout, const T* qkv, const T* out, const T* lse,
                      const int32_t* key_mask, const AttentionShape& s, const DropoutSpec& spec) {
  const T scale = emulated_scale<T>(D);
  const fused::HeadDropout site = fused::site_dropout(spec, s.seq);
  // delta_kernel: one thread per row of all heads.
  std::vector<T> delta(fused_attention_backward_scratch_floats(s));
  for (int64_t r = 0; r < static_cast<int64_t>(delta.size()); ++r) {
    const fused::HeadLayout head = fused::head_layout(r / s.seq, s.seq, s.hidden, s.heads);
    fused::delta_row<D>(delta.data(), dout, out, head, r % s.seq);
  }
  // query_grad_kernel.
  for_each_block(s, [&](int64_t x, int64_t first_row) {
    const fused::HeadLayout head = fused::head_layout(x, s.seq, s.hidden, s.heads);
    const fused::HeadDropout dropout = site.for_head(x);
    auto tile = std::make_unique<fused::KeyValueTile<D, T>>();
    auto rows = std::make_unique<fused::QueryGradRow<D, T>[]>(kRowsPerBlock);
    for_each_owned_row(s, first_row, [&](int t, int64_t i) {
      fused::query_grad_row_begin(rows[t], qkv, dout, lse, delta.data(), head, i);
    });
    walk_tiles<D>(
        s.seq,
        [&](int64_t first, int count, int e) {
          fused::stage_key_value(*tile, qkv, key_mask, head, first, count, e);
        },
        [&](int64_t first, int count) {
          for_each_owned_row(s, first_row, [&](int t, int64_t i) {
            fused::query_grad_row_tile(rows[t], *tile, count, scale, dropout, i, first);
          });
        });
    for_each_owned_row(s, first_row, [&](int t, int64_t i) {
      fused::query_grad_row_finish(rows[t], dqkv, scale, head, i);
    });
  });
  // key_grad_kernel.
  for_each_block(s, [&](int64_t x, int64_t first_row) {
    const fused::HeadLayout head = fused::head_layout(x, s.seq, s.hidden, s.heads);
    const fused::HeadDropout dropout = site.for_head(x);
    auto tile = std::make_unique<fused::QueryTile<D, T>>();
    auto rows = std::make_unique<fused::KeyGradRow<D, T>[]>(kRowsPerBlock);
    for_each_owned_row(s, first_row, [&](int t, int64_t j) {
      fused::key_grad_row_begin(rows[t], qkv, key_mask, head, j);
    });
    walk_tiles<D>(
        s.seq,
        [&](int64_t first, int count, int e) {
          fused::stage_query(*tile, qkv, dout, lse, delta.data(), head, first, count, e);
        },
        [&](int64_t first, int count) {
          for_each_owned_row(s, first_row, [&](int t, int64_t j) {
            fused::key_grad_row_tile(rows[t], *tile, count, scale, dropout, j, first);
          });
        });
    for_each_owned_row(s, first_row, [&](int t, int64_t j) {
      fused::key_grad_row_finish(rows[t], dqkv, scale, head, j);
    });
  });
}

// The kernels' dispatch on D (fused_attention.cu); other D are refused there.
template <typename T>
void emulate_forward_any(T* out, T* lse, const T* qkv, const int32_t* key_mask,
                         const AttentionShape& s, const DropoutSpec& spec) {
  if (s.head_dim() == 64) {
    emulate_forward<64>(out, lse, qkv, key_mask, s, spec);
  } else {
    emulate_forward<128>(out, lse, qkv, key_mask, s, spec);
  }
}

template <typename T>
void emulate_backward_any(T* dqkv, const T* dout, const T* qkv, const T* out, const T* lse,
                          const int32_t* key_mask, const AttentionShape& s,
                          const DropoutSpec& spec) {
  if (s.head_dim() == 64) {
    emulate_backward<64>(dqkv, dout, qkv, out, lse, key_mask, s, spec);
  } else {
    emulate_backward<128>(dqkv, dout, qkv, out, lse, key_mask, s, spec);
  }
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_EMULATION_H_
