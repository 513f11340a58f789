// The device side of the tile-ops layer (tc_tile_ops.h): WMMA m16n16k16 fragments with
// __nv_bfloat16 operands and float accumulators (sm_80 and later), and a CUDA block as the
// executor. Device code only: include from .cu.
#ifndef CLOZE_KERNELS_CUDA_TC_TILE_OPS_WMMA_CUH_
#define CLOZE_KERNELS_CUDA_TC_TILE_OPS_WMMA_CUH_

#include <cuda_bf16.h>
#include <mma.h>

#include <type_traits>

#include "kernels/cuda/bf16.h"
#include "kernels/cuda/tc_tile_ops.h"

namespace cloze::cuda::tc {

static_assert(sizeof(Bf16) == sizeof(__nv_bfloat16), "Bf16 holds __nv_bfloat16's bits");

// Pointers handed to load/store must be 32-byte aligned and ld a multiple of 8 (bf16) or
// 4 (float) elements: WMMA's requirements, which the shared-memory layouts guarantee.
struct WmmaTileOps {
  template <bool kColMajor>
  using Layout = std::conditional_t<kColMajor, nvcuda::wmma::col_major, nvcuda::wmma::row_major>;
  template <bool kColMajor>
  using MatrixA = nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, kFragment, kFragment, kFragment,
                                         __nv_bfloat16, Layout<kColMajor>>;
  template <bool kColMajor>
  using MatrixB = nvcuda::wmma::fragment<nvcuda::wmma::matrix_b, kFragment, kFragment, kFragment,
                                         __nv_bfloat16, Layout<kColMajor>>;
  using Accumulator =
      nvcuda::wmma::fragment<nvcuda::wmma::accumulator, kFragment, kFragment, kFragment, float>;

  template <class Fragment>
  __device__ __forceinline__ static void load(Fragment& f, const Bf16* p, int ld) {
    nvcuda::wmma::load_matrix_sync(f, reinterpret_cast<const __nv_bfloat16*>(p), ld);
  }
  __device__ __forceinline__ static void fill(Accumulator& acc, float value) {
    nvcuda::wmma::fill_fragment(acc, value);
  }
  __device__ __forceinline__ static void load(Accumulator& acc, const float* p, int ld) {
    nvcuda::wmma::load_matrix_sync(acc, p, ld, nvcuda::wmma::mem_row_major);
  }
  __device__ __forceinline__ static void store(float* p, const Accumulator& acc, int ld) {
    nvcuda::wmma::store_matrix_sync(p, acc, ld, nvcuda::wmma::mem_row_major);
  }
  template <class A, class B>
  __device__ __forceinline__ static void mma(Accumulator& acc, const A& a, const B& b) {
    nvcuda::wmma::mma_sync(acc, a, b, acc);
  }
};

// The calling CUDA block of kThreads threads.
struct DeviceExec {
  template <class T>
  struct PerWarp {
    T value;  // this warp's
    __device__ __forceinline__ T& operator[](int) { return value; }
  };

  template <class F>
  __device__ __forceinline__ void threads(F&& f) const {
    f(static_cast<int>(threadIdx.x));
    __syncthreads();
  }
  template <class F>
  __device__ __forceinline__ void warps(F&& f) const {
    f(static_cast<int>(threadIdx.x) / 32);
    __syncthreads();
  }
};

}  // namespace cloze::cuda::tc

#endif  // CLOZE_KERNELS_CUDA_TC_TILE_OPS_WMMA_CUH_
