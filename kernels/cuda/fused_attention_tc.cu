// The tensor-core attention kernels: each one runs a block program of
// fused_attention_tc_program.h with WMMA tile ops and the CUDA block as executor, over
// dynamic shared memory laid out by fused_attention_tc_layout.h. All the math is in the
// programs, which the CPU test replays on the host (testing/fused_attention_tc_emulation.h).
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "kernels/cuda/fused_attention_rows.h"
#include "kernels/cuda/fused_attention_tc.h"
#include "kernels/cuda/fused_attention_tc_layout.h"
#include "kernels/cuda/fused_attention_tc_program.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/tc_tile_ops_wmma.cuh"

namespace cloze::cuda {
namespace {

using tc::DeviceExec;
using tc::Problem;
using tc::WmmaTileOps;

static_assert(kFusedAttentionMaxSeq == int64_t{tc::kBlockRows} * 65535,
              "the header's limit is gridDim.y's 65535 blocks of kBlockRows rows");

// Block (x, y): head x = b·NH + h, own rows [64·y, 64·y + 64).
template <int D>
__global__ void __launch_bounds__(tc::kThreads)
    forward_kernel(float* out, float* lse, const float* qkv, const int32_t* key_mask, Problem pr) {
  extern __shared__ __align__(128) char smem[];
  tc::forward_program<D, WmmaTileOps>(DeviceExec{}, smem, out, lse, qkv, key_mask, pr,
                                      blockIdx.x, blockIdx.y);
}

template <int D>
__global__ void __launch_bounds__(tc::kThreads)
    query_grad_kernel(float* dqkv, const float* dout, const float* qkv, const float* lse,
                      const float* delta, const int32_t* key_mask, Problem pr) {
  extern __shared__ __align__(128) char smem[];
  tc::query_grad_program<D, WmmaTileOps>(DeviceExec{}, smem, dqkv, dout, qkv, lse, delta,
                                         key_mask, pr, blockIdx.x, blockIdx.y);
}

template <int D>
__global__ void __launch_bounds__(tc::kThreads)
    key_grad_kernel(float* dqkv, const float* dout, const float* qkv, const float* lse,
                    const float* delta, const int32_t* key_mask, Problem pr) {
  extern __shared__ __align__(128) char smem[];
  tc::key_grad_program<D, WmmaTileOps>(DeviceExec{}, smem, dqkv, dout, qkv, lse, delta, key_mask,
                                       pr, blockIdx.x, blockIdx.y);
}

// One thread per row r = (b·NH + h)·T + i of all heads: Δ_r = dout_r · out_r in fp32.
template <int D>
__global__ void delta_kernel(float* delta, const float* dout, const float* out, Problem pr) {
  CLOZE_GRID_STRIDE_LOOP(r, pr.batch * pr.heads * pr.seq) {
    const fused::HeadLayout head = fused::head_layout(r / pr.seq, pr.seq, pr.hidden, pr.heads);
    fused::delta_row<D>(delta, dout, out, head, r % pr.seq);
  }
}

dim3 block_grid(const Problem& pr) {
  return dim3(static_cast<unsigned>(pr.batch * pr.heads),
              static_cast<unsigned>((pr.seq + tc::kBlockRows - 1) / tc::kBlockRows));
}

bool empty(const AttentionShape& s) {
  return s.batch <= 0 || s.seq <= 0 || s.hidden <= 0 || s.heads <= 0;
}

// Lets `kernel` use `bytes` of dynamic shared memory; the CUDA error if the device can't.
template <class Kernel>
DeviceStatus allow_shared_memory(Kernel kernel, size_t bytes, const char* name) {
  const cudaError_t e =
      cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes));
  if (e == cudaSuccess) return {};
  return {std::string("bf16 fused attention: ") + name + " needs " + std::to_string(bytes) +
          " bytes of shared memory per block: " + cudaGetErrorString(e)};
}

template <int D>
DeviceStatus launch_forward(float* out, float* lse, const float* qkv, const int32_t* key_mask,
                            const Problem& pr) {
  constexpr size_t bytes = tc::ForwardSmem<D>::kBytes;
  if (DeviceStatus s = allow_shared_memory(forward_kernel<D>, bytes, "forward"); !s.ok()) return s;
  forward_kernel<D><<<block_grid(pr), tc::kThreads, bytes>>>(out, lse, qkv, key_mask, pr);
  return {};
}

template <int D>
DeviceStatus launch_backward(float* dqkv, const float* dout, const float* qkv, const float* out,
                             const float* lse, const int32_t* key_mask, const Problem& pr,
                             float* delta) {
  constexpr size_t query_bytes = tc::QueryGradSmem<D>::kBytes;
  constexpr size_t key_bytes = tc::KeyGradSmem<D>::kBytes;
  if (DeviceStatus s = allow_shared_memory(query_grad_kernel<D>, query_bytes, "dQ"); !s.ok()) {
    return s;
  }
  if (DeviceStatus s = allow_shared_memory(key_grad_kernel<D>, key_bytes, "dK/dV"); !s.ok()) {
    return s;
  }
  delta_kernel<D><<<grid_for(pr.batch * pr.heads * pr.seq), kThreads>>>(delta, dout, out, pr);
  query_grad_kernel<D><<<block_grid(pr), tc::kThreads, query_bytes>>>(dqkv, dout, qkv, lse, delta,
                                                                       key_mask, pr);
  key_grad_kernel<D><<<block_grid(pr), tc::kThreads, key_bytes>>>(dqkv, dout, qkv, lse, delta,
                                                                   key_mask, pr);
  return {};
}

}  // namespace

DeviceStatus fused_attention_forward_bf16(float* out, float* lse, const float* qkv,
                                          const int32_t* key_mask, const AttentionShape& shape,
                                          const DropoutSpec& dropout) {
  if (empty(shape)) return {};
  if (std::string error = fused_attention_bf16_shape_error(shape); !error.empty()) return {error};
  const Problem pr = tc::make_problem(shape, dropout);
  return shape.head_dim() == 64 ? launch_forward<64>(out, lse, qkv, key_mask, pr)
                                : launch_forward<128>(out, lse, qkv, key_mask, pr);
}

DeviceStatus fused_attention_backward_bf16(float* dqkv, const float* dout, const float* qkv,
                                           const float* out, const float* lse,
                                           const int32_t* key_mask, const AttentionShape& shape,
                                           const DropoutSpec& dropout, float* scratch) {
  if (empty(shape)) return {};
  if (std::string error = fused_attention_bf16_shape_error(shape); !error.empty()) return {error};
  const Problem pr = tc::make_problem(shape, dropout);
  return shape.head_dim() == 64
             ? launch_backward<64>(dqkv, dout, qkv, out, lse, key_mask, pr, scratch)
             : launch_backward<128>(dqkv, dout, qkv, out, lse, key_mask, pr, scratch);
}

}  // namespace cloze::cuda
