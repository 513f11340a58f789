#include "kernels/cuda/embedding.h"
#include "kernels/cuda/launch.cuh"

namespace cloze::cuda {
namespace {

__global__ void embedding_forward_kernel(float* out, const int32_t* ids, const int32_t* type_ids,
                                         const float* word, const float* position,
                                         const float* type, int64_t b, int64_t t, int64_t c) {
  CLOZE_GRID_STRIDE_LOOP(i, b * t * c) {
    const int64_t row = i / c, col = i % c;
    const float w = word[static_cast<int64_t>(ids[row]) * c + col];
    const float p = position[(row % t) * c + col];
    const float y = type[static_cast<int64_t>(type_ids[row]) * c + col];
    out[i] = w + y + p;  // the CPU's order of additions
  }
}

__global__ void embedding_backward_kernel(float* dword, float* dposition, float* dtype,
                                          const float* dout, const int32_t* ids,
                                          const int32_t* type_ids, int64_t b, int64_t t,
                                          int64_t c, int32_t padding_id) {
  CLOZE_GRID_STRIDE_LOOP(i, b * t * c) {
    const int64_t row = i / c, col = i % c;
    const float g = dout[i];
    if (ids[row] != padding_id) atomicAdd(dword + static_cast<int64_t>(ids[row]) * c + col, g);
    atomicAdd(dposition + (row % t) * c + col, g);
    atomicAdd(dtype + static_cast<int64_t>(type_ids[row]) * c + col, g);
  }
}

}  // namespace

void embedding_forward(float* out, const int32_t* ids, const int32_t* type_ids, const float* word,
                       const float* position, const float* type, int64_t b, int64_t t,
                       int64_t c) {
  if (b <= 0 || t <= 0 || c <= 0) return;  // a grid of zero blocks is a launch error
  embedding_forward_kernel<<<grid_for(b * t * c), kThreads>>>(out, ids, type_ids, word, position,
                                                              type, b, t, c);
}

void embedding_backward(float* dword, float* dposition, float* dtype, const float* dout,
                        const int32_t* ids, const int32_t* type_ids, int64_t b, int64_t t,
                        int64_t c, int32_t padding_id) {
  if (b <= 0 || t <= 0 || c <= 0) return;
  embedding_backward_kernel<<<grid_for(b * t * c), kThreads>>>(dword, dposition, dtype, dout, ids,
                                                               type_ids, b, t, c, padding_id);
}

}  // namespace cloze::cuda
