// Launch geometry shared by the elementwise kernels. Device code only: include from .cu.
#ifndef CLOZE_KERNELS_CUDA_LAUNCH_CUH_
#define CLOZE_KERNELS_CUDA_LAUNCH_CUH_

#include <algorithm>
#include <cstdint>

namespace cloze::cuda {

constexpr int kThreads = 256;
// About eight waves of 256-thread blocks on an H100 (132 SMs x 8 resident blocks); larger
// tensors loop inside the grid-stride kernels instead of launching more blocks.
constexpr int64_t kMaxBlocks = 8448;

inline int grid_for(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, kMaxBlocks));
}

// Grid-stride loop over [0, n) with 64-bit indices (a large batch's activations pass 2^31).
#define CLOZE_GRID_STRIDE_LOOP(i, n)                                                        \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

// Rows handled one block each: at most this many blocks, looping over the rest.
constexpr int64_t kMaxRowBlocks = 65535;

inline int row_grid_for(int64_t rows) {
  return static_cast<int>(std::min<int64_t>(rows, kMaxRowBlocks));
}

#define CLOZE_BLOCK_ROW_LOOP(row, rows) \
  for (int64_t row = blockIdx.x; row < (rows); row += gridDim.x)

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_LAUNCH_CUH_
