// The encoder's input embedding on the GPU: the CUDA twin of kernels/cpu/embedding.h.
//
// Same signatures and contracts as the CPU ops, in float, on DEVICE pointers (ids too).
// Shapes (B = batch, T = sequence length, C = embedding width): ids, type_ids (B, T);
// word (V, C); position (P ≥ T, C); type (TV, C); out (B, T, C). Token (b, t) sits at
// position t; ids must be in range. Forward overwrites out (one thread per element).
// Backward ADDS into dword, dposition, dtype with atomicAdd, one thread per element of
// dout: rows that share a word, position or type id are summed in whatever order the
// threads arrive, so unlike the CPU's fixed order the result is NOT bit-deterministic
// run to run (a few ulp). Calls only enqueue work on the default stream; errors surface
// at the next device_synchronize() (device.h). b, t or c <= 0 does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_EMBEDDING_H_
#define CLOZE_KERNELS_CUDA_EMBEDDING_H_

#include <cstdint>

namespace cloze::cuda {

void embedding_forward(float* out, const int32_t* ids, const int32_t* type_ids, const float* word,
                       const float* position, const float* type, int64_t b, int64_t t,
                       int64_t c);

void embedding_backward(float* dword, float* dposition, float* dtype, const float* dout,
                        const int32_t* ids, const int32_t* type_ids, int64_t b, int64_t t,
                        int64_t c, int32_t padding_id = -1);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_EMBEDDING_H_
