// Residual connections on the GPU: the CUDA twin of kernels/cpu/residual.h, in float.
//
// residual_forward overwrites out (n) = a + b; out may alias a or b.
// accumulate ADDS src (n) into dst (n): the backward of a residual for each input.
// DEVICE pointers; one thread per element; results are bitwise the CPU's (one rounding).
// Calls only enqueue work on the default stream; errors surface at the next
// device_synchronize() (device.h). n <= 0 does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_RESIDUAL_H_
#define CLOZE_KERNELS_CUDA_RESIDUAL_H_

#include <cstdint>

namespace cloze::cuda {

void residual_forward(float* out, const float* a, const float* b, int64_t n);

void accumulate(float* dst, const float* src, int64_t n);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_RESIDUAL_H_
