// The tensor-core attention kernels (fused_attention_tc.cu) replayed on the host: the same
// block programs (fused_attention_tc_program.h) for every block of the same grid, with
// HostTileOps (fp32 sums of bf16 products, WMMA's semantics) and HostExec (threads and warps
// one after another; each phase's end is the barrier). Each block's shared memory starts
// filled with 0xff bytes (NaN as float and as bf16), so a read of something no phase wrote
// shows as NaN in the results. `reverse` runs every phase's threads and warps last to
// first: a race-free program gives bitwise the same results.
//
// Pointers are host memory with the layouts of fused_attention.h. Test-only; header-only.
#ifndef CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_TC_EMULATION_H_
#define CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_TC_EMULATION_H_

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/fused_attention_rows.h"
#include "kernels/cuda/fused_attention_tc_layout.h"
#include "kernels/cuda/fused_attention_tc_program.h"
#include "kernels/cuda/tc_tile_ops.h"

namespace cloze::cuda::testing {

// One block's dynamic shared memory, 128-byte aligned, refilled with 0xff per block.
class EmulatedSharedMemory {
 public:
  explicit EmulatedSharedMemory(size_t bytes)
      : bytes_(bytes), data_(static_cast<char*>(std::aligned_alloc(128, (bytes + 127) / 128 * 128))) {}
  ~EmulatedSharedMemory() { std::free(data_); }
  EmulatedSharedMemory(const EmulatedSharedMemory&) = delete;
  EmulatedSharedMemory& operator=(const EmulatedSharedMemory&) = delete;
  char* fresh() {
    std::memset(data_, 0xff, bytes_);
    return data_;
  }

 private:
  size_t bytes_;
  char* data_;
};

// Calls block(head_index, row_block) over the kernels' grid: (B·NH, ⌈T / 64⌉).
template <typename Block>
void for_each_tc_block(const AttentionShape& s, Block block) {
  const int64_t row_blocks = (s.seq + tc::kBlockRows - 1) / tc::kBlockRows;
  for (int64_t x = 0; x < s.batch * s.heads; ++x) {
    for (int64_t y = 0; y < row_blocks; ++y) block(x, y);
  }
}

template <int D>
void emulate_forward_bf16(float* out, float* lse, const float* qkv, const int32_t* key_mask,
                          const AttentionShape& s, const DropoutSpec& spec, bool reverse) {
  const tc::Problem pr = tc::make_problem(s, spec);
  EmulatedSharedMemory smem(tc::ForwardSmem<D>::kBytes);
  for_each_tc_block(s, [&](int64_t x, int64_t y) {
    tc::forward_program<D, tc::HostTileOps>(tc::HostExec{reverse}, smem.fresh(), out, lse, qkv,
                                            key_mask, pr, x, y);
  });
}

template <int D>
void emulate_backward_bf16(float* dqkv, const float* dout, const float* qkv, const float* out,
                           const float* lse, const int32_t* key_mask, const AttentionShape& s,
                           const DropoutSpec& spec, bool reverse) {
  const tc::Problem pr = tc::make_problem(s, spec);
  // delta_kernel: one thread per row of all heads.
  std::vector<float> delta(fused_attention_backward_scratch_floats(s));
  for (int64_t r = 0; r < static_cast<int64_t>(delta.size()); ++r) {
    const fused::HeadLayout head = fused::head_layout(r / s.seq, s.seq, s.hidden, s.heads);
    fused::delta_row<D>(delta.data(), dout, out, head, r % s.seq);
  }
  EmulatedSharedMemory query_smem(tc::QueryGradSmem<D>::kBytes);
  for_each_tc_block(s, [&](int64_t x, int64_t y) {
    tc::query_grad_program<D, tc::HostTileOps>(tc::HostExec{reverse}, query_smem.fresh(), dqkv,
                                               dout, qkv, lse, delta.data(), key_mask, pr, x, y);
  });
  EmulatedSharedMemory key_smem(tc::KeyGradSmem<D>::kBytes);
  for_each_tc_block(s, [&](int64_t x, int64_t y) {
    tc::key_grad_program<D, tc::HostTileOps>(tc::HostExec{reverse}, key_smem.fresh(), dqkv, dout,
                                             qkv, lse, delta.data(), key_mask, pr, x, y);
  });
}

// The kernels' dispatch on D; other D are refused there.
inline void emulate_forward_bf16_any(float* out, float* lse, const float* qkv,
                                     const int32_t* key_mask, const AttentionShape& s,
                                     const DropoutSpec& spec, bool reverse = false) {
  if (s.head_dim() == 64) {
    emulate_forward_bf16<64>(out, lse, qkv, key_mask, s, spec, reverse);
  } else {
    emulate_forward_bf16<128>(out, lse, qkv, key_mask, s, spec, reverse);
  }
}

inline void emulate_backward_bf16_any(float* dqkv, const float* dout, const float* qkv,
                                      const float* out, const float* lse, const int32_t* key_mask,
                                      const AttentionShape& s, const DropoutSpec& spec,
                                      bool reverse = false) {
  if (s.head_dim() == 64) {
    emulate_backward_bf16<64>(dqkv, dout, qkv, out, lse, key_mask, s, spec, reverse);
  } else {
    emulate_backward_bf16<128>(dqkv, dout, qkv, out, lse, key_mask, s, spec, reverse);
  }
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_TC_EMULATION_H_
