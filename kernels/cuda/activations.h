// GELU on the GPU: the CUDA twins of the ops in kernels/cpu/activations.h.
//
// Same signatures and contracts as the CPU ops, in float, on DEVICE pointers: `forward`
// overwrites out[0, n); `backward` ADDS the input gradient into dinp[0, n), so callers
// zero it first. out may alias inp; dinp must not alias inp or dout. n <= 0 does nothing.
// Calls only enqueue work on the default stream and return at once; a bad launch or a
// fault inside the kernel is reported by the next device_synchronize() (device.h).
// activations_cuda_test checks every op here against its CPU twin.
//
// Plain C++ on purpose, so g++-built code includes it without CUDA headers. The functions
// are linked only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_ACTIVATIONS_H_
#define CLOZE_KERNELS_CUDA_ACTIVATIONS_H_

#include <cstdint>

namespace cloze::cuda {

// x·Φ(x) with the exact normal CDF (BERT's "gelu").
void gelu_erf_forward(float* out, const float* inp, int64_t n);
void gelu_erf_backward(float* dinp, const float* inp, const float* dout, int64_t n);

// The tanh approximation (ALBERT's "gelu_new").
void gelu_tanh_forward(float* out, const float* inp, int64_t n);
void gelu_tanh_backward(float* dinp, const float* inp, const float* dout, int64_t n);

// grad[i] *= gelu_tanh'(inp[i]), in place: the gradient through the activation OVERWRITING
// the incoming one, for matmul_dgelu_backward's fallback (matmul.h), which matches what
// cuBLASLt's DGELU epilogue does. grad must not alias inp. No CPU twin of its own: it is
// gelu_tanh_backward into a zeroed buffer.
void gelu_tanh_backward_in_place(float* grad, const float* inp, int64_t n);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_ACTIVATIONS_H_
