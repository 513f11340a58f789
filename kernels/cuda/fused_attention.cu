// The fused attention kernels: grid mapping, shared-memory staging and barriers around the
// row functions of fused_attention_rows.h, which hold all the math (and which the CPU test
// runs through testing/fused_attention_emulation.h, a host copy of these loops).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/fused_attention_rows.h"
#include "kernels/cuda/launch.cuh"

namespace cloze::cuda {
namespace {

using fused::HeadDropout;
using fused::HeadLayout;
using fused::kRowsPerBlock;
using fused::kTile;

static_assert(kFusedAttentionMaxSeq == int64_t{kRowsPerBlock} * 65535,
              "the header's limit is gridDim.y's 65535 blocks of kRowsPerBlock rows");

// Block (x, y) serves head x = b·NH + h and its rows [y·kRowsPerBlock, (y+1)·kRowsPerBlock),
// one per thread; threads past T only help stage tiles.
struct Geometry {
  int64_t batch, seq, hidden, heads;
};

__device__ __forceinline__ int64_t owned_row() {
  return static_cast<int64_t>(blockIdx.y) * kRowsPerBlock + threadIdx.x;
}

// The walk each row kernel's block makes over the sequence, kTile rows at a time: the
// block's threads stage the tile's kTile·D elements between them (stage(first, count, e)),
// then each thread that owns a row folds the tile into it (process(first, count)). The
// second barrier keeps the next tile from overwriting one still being read.
template <int D, typename Stage, typename Process>
__device__ __forceinline__ void walk_tiles(int64_t seq, bool owns, Stage stage,
                                           Process process) {
  for (int64_t first = 0; first < seq; first += kTile) {
    const int count = fused::tile_count(first, seq);
    for (int e = threadIdx.x; e < kTile * D; e += kRowsPerBlock) stage(first, count, e);
    __syncthreads();
    if (owns) process(first, count);
    __syncthreads();
  }
}

template <int D>
__global__ void __launch_bounds__(kRowsPerBlock)
    forward_kernel(float* out, float* lse, const float* qkv, const int32_t* key_mask,
                   Geometry g, float scale, HeadDropout site) {
  __shared__ fused::KeyValueTile<D, float> tile;
  const HeadLayout head = fused::head_layout(blockIdx.x, g.seq, g.hidden, g.heads);
  const HeadDropout dropout = site.for_head(blockIdx.x);
  const int64_t i = owned_row();
  const bool owns = i < g.seq;
  fused::ForwardRow<D, float> row;
  if (owns) fused::forward_row_begin(row, qkv, head, i);
  walk_tiles<D>(
      g.seq, owns,
      [&](int64_t first, int count, int e) {
        fused::stage_key_value(tile, qkv, key_mask, head, first, count, e);
      },
      [&](int64_t first, int count) {
        fused::forward_row_tile(row, tile, count, scale, dropout, i, first);
      });
  if (owns) fused::forward_row_finish(row, out, lse, head, dropout, i);
}

// One thread per row r = (b·NH + h)·T + i of all heads: Δ_r = dout_r · out_r.
template <int D>
__global__ void delta_kernel(float* delta, const float* dout, const float* out, Geometry g) {
  CLOZE_GRID_STRIDE_LOOP(r, g.batch * g.heads * g.seq) {
    const HeadLayout head = fused::head_layout(r / g.seq, g.seq, g.hidden, g.heads);
    fused::delta_row<D>(delta, dout, out, head, r % g.seq);
  }
}

template <int D>
__global__ void __launch_bounds__(kRowsPerBlock)
    query_grad_kernel(float* dqkv, const float* dout, const float* qkv, const float* lse,
                      const float* delta, const int32_t* key_mask, Geometry g, float scale,
                      HeadDropout site) {
  __shared__ fused::KeyValueTile<D, float> tile;
  const HeadLayout head = fused::head_layout(blockIdx.x, g.seq, g.hidden, g.heads);
  const HeadDropout dropout = site.for_head(blockIdx.x);
  const int64_t i = owned_row();
  const bool owns = i < g.seq;
  fused::QueryGradRow<D, float> row;
  if (owns) fused::query_grad_row_begin(row, qkv, dout, lse, delta, head, i);
  walk_tiles<D>(
      g.seq, owns,
      [&](int64_t first, int count, int e) {
        fused::stage_key_value(tile, qkv, key_mask, head, first, count, e);
      },
      [&](int64_t first, int count) {
        fused::query_grad_row_tile(row, tile, count, scale, dropout, i, first);
      });
  if (owns) fused::query_grad_row_finish(row, dqkv, scale, head, i);
}

template <int D>
__global__ void __launch_bounds__(kRowsPerBlock)
    key_grad_kernel(float* dqkv, const float* dout, const float* qkv, const float* lse,
                    const float* delta, const int32_t* key_mask, Geometry g, float scale,
                    HeadDropout site) {
  __shared__ fused::QueryTile<D, float> tile;
  const HeadLayout head = fused::head_layout(blockIdx.x, g.seq, g.hidden, g.heads);
  const HeadDropout dropout = site.for_head(blockIdx.x);
  const int64_t j = owned_row();
  const bool owns = j < g.seq;
  fused::KeyGradRow<D, float> row;
  if (owns) fused::key_grad_row_begin(row, qkv, key_mask, head, j);
  walk_tiles<D>(
      g.seq, owns,
      [&](int64_t first, int count, int e) {
        fused::stage_query(tile, qkv, dout, lse, delta, head, first, count, e);
      },
      [&](int64_t first, int count) {
        fused::key_grad_row_tile(row, tile, count, scale, dropout, j, first);
      });
  if (owns) fused::key_grad_row_finish(row, dqkv, scale, head, j);
}

Geometry geometry_of(const AttentionShape& s) { return {s.batch, s.seq, s.hidden, s.heads}; }

dim3 row_grid(const Geometry& g) {
  return dim3(static_cast<unsigned>(g.batch * g.heads),
              static_cast<unsigned>((g.seq + kRowsPerBlock - 1) / kRowsPerBlock));
}

// The CPU's T(1) / sqrt(T(D)) in float.
float scale_of(int64_t d) { return 1.0f / std::sqrt(float(d)); }

bool empty(const AttentionShape& s) {
  return s.batch <= 0 || s.seq <= 0 || s.hidden <= 0 || s.heads <= 0;
}

template <int D>
void launch_forward(float* out, float* lse, const float* qkv, const int32_t* key_mask,
                    const Geometry& g, const HeadDropout& site) {
  forward_kernel<D><<<row_grid(g), kRowsPerBlock>>>(out, lse, qkv, key_mask, g, scale_of(D), site);
}

template <int D>
void launch_backward(float* dqkv, const float* dout, const float* qkv, const float* out,
                     const float* lse, const int32_t* key_mask, const Geometry& g,
                     const HeadDropout& site, float* delta) {
  delta_kernel<D><<<grid_for(g.batch * g.heads * g.seq), kThreads>>>(delta, dout, out, g);
  query_grad_kernel<D><<<row_grid(g), kRowsPerBlock>>>(dqkv, dout, qkv, lse, delta, key_mask, g,
                                                       scale_of(D), site);
  key_grad_kernel<D><<<row_grid(g), kRowsPerBlock>>>(dqkv, dout, qkv, lse, delta, key_mask, g,
                                                     scale_of(D), site);
}

}  // namespace

DeviceStatus fused_attention_forward(float* out, float* lse, const float* qkv,
                                     const int32_t* key_mask, const AttentionShape& shape,
                                     const DropoutSpec& dropout) {
  if (empty(shape)) return {};
  if (std::string error = fused_attention_shape_error(shape); !error.empty()) return {error};
  const Geometry g = geometry_of(shape);
  const HeadDropout site = fused::site_dropout(dropout, shape.seq);
  if (shape.head_dim() == 64) {
    launch_forward<64>(out, lse, qkv, key_mask, g, site);
  } else {
    launch_forward<128>(out, lse, qkv, key_mask, g, site);
  }
  return {};
}

DeviceStatus fused_attention_backward(float* dqkv, const float* dout, const float* qkv,
                                      const float* out, const float* lse,
                                      const int32_t* key_mask, const AttentionShape& shape,
                                      const DropoutSpec& dropout, float* scratch) {
  if (empty(shape)) return {};
  if (std::string error = fused_attention_shape_error(shape); !error.empty()) return {error};
  const Geometry g = geometry_of(shape);
  const HeadDropout site = fused::site_dropout(dropout, shape.seq);
  if (shape.head_dim() == 64) {
    launch_backward<64>(dqkv, dout, qkv, out, lse, key_mask, g, site, scratch);
  } else {
    launch_backward<128>(dqkv, dout, qkv, out, lse, key_mask, g, site, scratch);
  }
  return {};
}

}  // namespace cloze::cuda
