// Squared error on the GPU: the CUDA twin of kernels/cpu/squared_error.h, in float, for the
// regression head (STS-B).
//
// Same signatures and contracts as the CPU ops, on DEVICE pointers.
// Shapes: predictions, targets, losses, dpredictions (n).
//   forward:  losses[i] = (predictions[i] − targets[i])²
//   backward: dpredictions[i] += 2 · (predictions[i] − targets[i]) · scale
// The same float operations in the same order as the CPU, one thread per element, so
// results equal the CPU's bit for bit where the compiler does not contract them into an
// FMA (the tests allow that last bit). Calls only enqueue work on the default stream;
// errors surface at the next device_synchronize() (device.h). n <= 0 does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_SQUARED_ERROR_H_
#define CLOZE_KERNELS_CUDA_SQUARED_ERROR_H_

#include <cstdint>

namespace cloze::cuda {

void squared_error_forward(float* losses, const float* predictions, const float* targets, int64_t n);
void squared_error_backward(float* dpredictions, const float* predictions, const float* targets, int64_t n,
                            float scale);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_SQUARED_ERROR_H_
