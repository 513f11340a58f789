// Row gather on the GPU: the CUDA twin of kernels/cpu/gather.h, in float.
//
// Same signatures and contracts as the CPU ops, on DEVICE pointers (rows too):
// out (m, c) = rows rows[0..m) of inp (·, c); indices must be in range. Backward ADDS
// dout's rows back into dinp at the same rows; repeated indices accumulate through
// atomicAdd, so where rows repeat the sum's order, and its last bits, vary run to run
// (the CPU sums in order). One thread per element; m <= 0 or c <= 0 does nothing.
// Calls only enqueue work on the default stream; errors surface at the next
// device_synchronize() (device.h).
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_GATHER_H_
#define CLOZE_KERNELS_CUDA_GATHER_H_

#include <cstdint>

namespace cloze::cuda {

void gather_rows_forward(float* out, const float* inp, const int32_t* rows, int64_t m, int64_t c);

void gather_rows_backward(float* dinp, const float* dout, const int32_t* rows, int64_t m,
                          int64_t c);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_GATHER_H_
