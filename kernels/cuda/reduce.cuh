// Warp and block reductions shared by the row kernels (layer norm, softmaxes, optimizer
// norms). Device code only: include from .cu files.
//
// block_sum / block_max must be called by every thread of the block (they synchronise),
// with blockDim.x a multiple of 32 and at most 1024; every thread gets the result.
// Sums are trees, so their rounding differs from the CPU's sequential loops by a few ulp.
#ifndef CLOZE_KERNELS_CUDA_REDUCE_CUH_
#define CLOZE_KERNELS_CUDA_REDUCE_CUH_

namespace cloze::cuda {

template <typename T>
__device__ __forceinline__ T warp_sum(T x) {
  for (int offset = 16; offset > 0; offset >>= 1) x += __shfl_xor_sync(0xffffffffu, x, offset);
  return x;
}

template <typename T>
__device__ __forceinline__ T warp_max(T x) {
  for (int offset = 16; offset > 0; offset >>= 1) {
    const T other = __shfl_xor_sync(0xffffffffu, x, offset);
    x = other > x ? other : x;
  }
  return x;
}

// Combines one value per thread with `warp_op`; `shared` holds 32 values of scratch.
// The trailing __syncthreads lets callers reduce again with the same scratch at once.
template <typename T, T (*WarpOp)(T)>
__device__ __forceinline__ T block_reduce(T x, T* shared, T identity) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = blockDim.x >> 5;
  x = WarpOp(x);
  if (lane == 0) shared[warp] = x;
  __syncthreads();
  x = lane < warps ? shared[lane] : identity;
  x = WarpOp(x);
  __syncthreads();
  return x;
}

template <typename T>
__device__ __forceinline__ T block_sum(T x) {
  __shared__ T shared[32];
  return block_reduce<T, warp_sum<T>>(x, shared, T(0));
}

template <typename T>
__device__ __forceinline__ T block_max(T x, T lowest) {
  __shared__ T shared[32];
  return block_reduce<T, warp_max<T>>(x, shared, lowest);
}

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_REDUCE_CUH_
