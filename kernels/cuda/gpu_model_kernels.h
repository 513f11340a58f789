// Small CUDA ops the GPU model needs that kernels/cuda does not (yet) provide: tanh and
// ReLU (the pooler's and a config's activation), zero-filling, and the row argmax behind
// Losses' accuracy counts.
//
// Same contracts as the CPU ops in kernels/cpu/activations.h (forward overwrites out;
// backward ADDS into dinp; tanh's backward reads the forward OUTPUT), in float, on DEVICE
// pointers. Every call only enqueues work on the default stream; errors surface at the
// next device_synchronize() (kernels/cuda/device.h). n <= 0 (or m <= 0) does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. Linked only where CUDA
// code is built (model/BUILD's and kernels/cuda/BUILD's if_cuda()).
#ifndef CLOZE_KERNELS_CUDA_GPU_MODEL_KERNELS_H_
#define CLOZE_KERNELS_CUDA_GPU_MODEL_KERNELS_H_

#include <cstddef>
#include <cstdint>

namespace cloze::gpu {

void tanh_forward(float* out, const float* inp, int64_t n);
void tanh_backward(float* dinp, const float* out, const float* dout, int64_t n);

void relu_forward(float* out, const float* inp, int64_t n);
void relu_backward(float* dinp, const float* inp, const float* dout, int64_t n);

// dbias (c) += column sums of dout (n, c), in a fixed order (rows in chunks of
// kBiasGradientRows summed in order, then the chunk sums in order), so deterministic run to
// run. kernels/cuda's bias_backward (one thread per column over all n rows) leaves most of
// the GPU idle at c = 768 and costs about as much as the step's matmuls; this one spreads
// the rows over blocks (n < 2^24). `scratch` holds bias_gradient_scratch_floats(n, c) floats.
constexpr int64_t kBiasGradientRows = 256;
inline int64_t bias_gradient_scratch_floats(int64_t n, int64_t c) {
  return (n + kBiasGradientRows - 1) / kBiasGradientRows * c;
}
void bias_gradient(float* dbias, const float* dout, int64_t n, int64_t c, float* scratch);

// Sets `bytes` bytes at the device pointer to zero (all-zero bits: 0.0f, 0).
void zero_bytes(void* ptr, size_t bytes);

// argmax (m) = for each row of logits (m, v), the FIRST index of its largest value, as
// std::max_element on the CPU (NaNs compare false, as there). One block per row.
void row_argmax(int32_t* argmax, const float* logits, int64_t m, int64_t v);

}  // namespace cloze::gpu

#endif  // CLOZE_KERNELS_CUDA_GPU_MODEL_KERNELS_H_
