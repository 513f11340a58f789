// Inverted dropout on the GPU: the CUDA twin of kernels/cpu/dropout.h, in float.
//
// Same signatures and contracts as the CPU ops, on DEVICE pointers, with the CPU's
// DropoutSpec (a plain struct, passed by value to the kernel). The mask is the CPU's
// exactly: element i is kept iff uniform(philox(seed, stream, first_index + first + i))
// >= p (kernels/philox.h is host/device code), and kept values are multiplied by the
// same float 1 / (1 − p), formed on the host as the CPU forms it; so forward results are
// bitwise equal to the CPU's. One thread per element.
//   forward:  out (n) = inp · mask / (1 − p); out may alias inp.
//   backward: dinp (n) += dout · mask / (1 − p); dinp must not alias dout.
// With p = 0 forward copies (nothing when out == inp) and backward adds dout.
// The *_slice forms act on elements [first, first + n) of a larger tensor whose mask is
// indexed from 0; pointers address element `first`.
// Calls only enqueue work on the default stream; errors surface at the next
// device_synchronize() (device.h). n <= 0 does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_DROPOUT_H_
#define CLOZE_KERNELS_CUDA_DROPOUT_H_

#include <cstdint>

#include "kernels/cpu/dropout.h"

namespace cloze::cuda {

using cpu::DropoutSpec;

void dropout_forward(float* out, const float* inp, int64_t n, const DropoutSpec& spec);
void dropout_backward(float* dinp, const float* dout, int64_t n, const DropoutSpec& spec);

void dropout_forward_slice(float* out, const float* inp, int64_t n, uint64_t first,
                           const DropoutSpec& spec);
void dropout_backward_slice(float* dinp, const float* dout, int64_t n, uint64_t first,
                            const DropoutSpec& spec);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_DROPOUT_H_
