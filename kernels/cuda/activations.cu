#include <algorithm>

#include "kernels/cuda/activations.h"

namespace cloze::cuda {
namespace {

// The CPU twin's constants, rounded to float the way it rounds them (3·cubic in double
// first), so both sides evaluate the same float expression.
constexpr float kSqrt2OverPi = float(0.7978845608028654);
constexpr float kGeluCubic = float(0.044715);
constexpr float kGeluCubic3 = float(3 * 0.044715);
constexpr float kInvSqrt2 = float(0.7071067811865476);
constexpr float kInvSqrt2Pi = float(0.3989422804014327);

// Full-precision erff/tanhf/expf (no --use_fast_math): the tests hold these ops to a few
// ulp of the CPU's libm, and GELU is memory-bound, so the fast intrinsics would buy nothing.
__device__ float gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * kInvSqrt2)); }

__device__ float gelu_erf_grad(float x) {
  const float cdf = 0.5f * (1.0f + erff(x * kInvSqrt2));
  const float pdf = kInvSqrt2Pi * expf(-0.5f * x * x);
  return cdf + x * pdf;
}

__device__ float gelu_tanh(float x) {
  const float inner = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
  return 0.5f * x * (1.0f + tanhf(inner));
}

__device__ float gelu_tanh_grad(float x) {
  const float inner = kSqrt2OverPi * (x + kGeluCubic * x * x * x);
  const float th = tanhf(inner);
  const float sech2 = 1.0f - th * th;
  const float dinner = kSqrt2OverPi * (1.0f + kGeluCubic3 * x * x);
  return 0.5f * (1.0f + th) + 0.5f * x * sech2 * dinner;
}

constexpr int kThreads = 256;
// About eight waves of 256-thread blocks on an H100 (132 SMs x 8 resident blocks);
// larger tensors loop inside the grid-stride kernels instead of launching more blocks.
constexpr int64_t kMaxBlocks = 8448;

int blocks_for(int64_t n) {
  return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, kMaxBlocks));
}

// Indices are 64-bit: activations of a large batch pass 2^31 elements.
template <float (*F)(float)>
__global__ void map_kernel(float* out, const float* inp, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride) {
    out[i] = F(inp[i]);
  }
}

template <float (*Grad)(float)>
__global__ void accumulate_grad_kernel(float* dinp, const float* inp, const float* dout,
                                       int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride) {
    dinp[i] += dout[i] * Grad(inp[i]);
  }
}

template <float (*Grad)(float)>
__global__ void scale_by_grad_kernel(float* grad, const float* inp, int64_t n) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride) {
    grad[i] *= Grad(inp[i]);
  }
}

}  // namespace

void gelu_erf_forward(float* out, const float* inp, int64_t n) {
  if (n <= 0) return;  // a grid of zero blocks is a launch error
  map_kernel<gelu_erf><<<blocks_for(n), kThreads>>>(out, inp, n);
}

void gelu_erf_backward(float* dinp, const float* inp, const float* dout, int64_t n) {
  if (n <= 0) return;
  accumulate_grad_kernel<gelu_erf_grad><<<blocks_for(n), kThreads>>>(dinp, inp, dout, n);
}

void gelu_tanh_forward(float* out, const float* inp, int64_t n) {
  if (n <= 0) return;
  map_kernel<gelu_tanh><<<blocks_for(n), kThreads>>>(out, inp, n);
}

void gelu_tanh_backward(float* dinp, const float* inp, const float* dout, int64_t n) {
  if (n <= 0) return;
  accumulate_grad_kernel<gelu_tanh_grad><<<blocks_for(n), kThreads>>>(dinp, inp, dout, n);
}

void gelu_tanh_backward_in_place(float* grad, const float* inp, int64_t n) {
  if (n <= 0) return;
  scale_by_grad_kernel<gelu_tanh_grad><<<blocks_for(n), kThreads>>>(grad, inp, n);
}

}  // namespace cloze::cuda
