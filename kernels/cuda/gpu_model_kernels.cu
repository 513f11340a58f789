#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/gpu_model_kernels.h"

namespace cloze::gpu {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 8448;  // a few waves on an H100; larger n loops
constexpr int64_t kMaxRowBlocks = 65535;

int GridFor(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, kMaxBlocks));
}

#define GRID_STRIDE_LOOP(i, n)                                                              \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)

__global__ void TanhForwardKernel(float* out, const float* inp, int64_t n) {
  GRID_STRIDE_LOOP(i, n) out[i] = tanhf(inp[i]);
}

__global__ void TanhBackwardKernel(float* dinp, const float* out, const float* dout, int64_t n) {
  // The CPU's expression, unfused: dout · (1 − out·out), then the add.
  GRID_STRIDE_LOOP(i, n) {
    const float sech2 = __fsub_rn(1.0f, __fmul_rn(out[i], out[i]));
    dinp[i] = __fadd_rn(dinp[i], __fmul_rn(dout[i], sech2));
  }
}

__global__ void ReluForwardKernel(float* out, const float* inp, int64_t n) {
  GRID_STRIDE_LOOP(i, n) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

__global__ void ReluBackwardKernel(float* dinp, const float* inp, const float* dout, int64_t n) {
  GRID_STRIDE_LOOP(i, n) dinp[i] = __fadd_rn(dinp[i], inp[i] > 0.0f ? dout[i] : 0.0f);
}

// One block per row: each thread finds the first maximum of its strided columns, then a
// shared-memory tree keeps the larger value, the smaller index on ties, so the result is
// the first maximum of the row (std::max_element keeps the first of equals).
__global__ void RowArgmaxKernel(int32_t* argmax, const float* logits, int64_t m, int64_t v) {
  __shared__ float best_value[kThreads];
  __shared__ int64_t best_index[kThreads];
  for (int64_t row = blockIdx.x; row < m; row += gridDim.x) {
    const float* x = logits + row * v;
    float value = 0.0f;
    int64_t index = -1;
    for (int64_t j = threadIdx.x; j < v; j += blockDim.x) {
      if (index < 0 || x[j] > value) value = x[j], index = j;
    }
    best_value[threadIdx.x] = value;
    best_index[threadIdx.x] = index;
    __syncthreads();
    for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
      if (threadIdx.x < stride) {
        const float other_value = best_value[threadIdx.x + stride];
        const int64_t other_index = best_index[threadIdx.x + stride];
        const int64_t mine = best_index[threadIdx.x];
        const bool take = other_index >= 0 &&
                          (mine < 0 || other_value > best_value[threadIdx.x] ||
                           (other_value == best_value[threadIdx.x] && other_index < mine));
        if (take) {
          best_value[threadIdx.x] = other_value;
          best_index[threadIdx.x] = other_index;
        }
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) argmax[row] = static_cast<int32_t>(best_index[0] < 0 ? 0 : best_index[0]);
    __syncthreads();
  }
}

// Pass 1: partial[chunk][col] = Σ rows of the chunk, in order. Pass 2: dbias[col] += Σ
// partials, chunks in order.
__global__ void BiasPartialKernel(float* partial, const float* dout, int64_t n, int64_t c) {
  const int64_t col = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  const int64_t chunk = blockIdx.y;
  if (col >= c) return;
  const int64_t begin = chunk * kBiasGradientRows;
  const int64_t end = begin + kBiasGradientRows < n ? begin + kBiasGradientRows : n;
  float sum = 0.0f;
  for (int64_t r = begin; r < end; ++r) sum += dout[r * c + col];
  partial[chunk * c + col] = sum;
}

__global__ void BiasSumKernel(float* dbias, const float* partial, int64_t chunks, int64_t c) {
  GRID_STRIDE_LOOP(col, c) {
    float sum = 0.0f;
    for (int64_t k = 0; k < chunks; ++k) sum += partial[k * c + col];
    dbias[col] += sum;
  }
}

}  // namespace

void bias_gradient(float* dbias, const float* dout, int64_t n, int64_t c, float* scratch) {
  if (n <= 0 || c <= 0) return;
  const int64_t chunks = (n + kBiasGradientRows - 1) / kBiasGradientRows;
  const dim3 grid(static_cast<unsigned>((c + kThreads - 1) / kThreads), static_cast<unsigned>(chunks));
  BiasPartialKernel<<<grid, kThreads>>>(scratch, dout, n, c);
  BiasSumKernel<<<GridFor(c), kThreads>>>(dbias, scratch, chunks, c);
}

void tanh_forward(float* out, const float* inp, int64_t n) {
  if (n > 0) TanhForwardKernel<<<GridFor(n), kThreads>>>(out, inp, n);
}

void tanh_backward(float* dinp, const float* out, const float* dout, int64_t n) {
  if (n > 0) TanhBackwardKernel<<<GridFor(n), kThreads>>>(dinp, out, dout, n);
}

void relu_forward(float* out, const float* inp, int64_t n) {
  if (n > 0) ReluForwardKernel<<<GridFor(n), kThreads>>>(out, inp, n);
}

void relu_backward(float* dinp, const float* inp, const float* dout, int64_t n) {
  if (n > 0) ReluBackwardKernel<<<GridFor(n), kThreads>>>(dinp, inp, dout, n);
}

void zero_bytes(void* ptr, size_t bytes) {
  if (bytes > 0 && ptr != nullptr) cudaMemsetAsync(ptr, 0, bytes);
}

void row_argmax(int32_t* argmax, const float* logits, int64_t m, int64_t v) {
  if (m <= 0 || v <= 0) return;
  RowArgmaxKernel<<<static_cast<int>(std::min(m, kMaxRowBlocks)), kThreads>>>(argmax, logits, m, v);
}

}  // namespace cloze::gpu
