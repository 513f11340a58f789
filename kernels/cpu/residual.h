// Residual connections: out = a + b, whose backward passes dout to both inputs.
//
// residual_forward overwrites out (n); out may alias a or b.
// accumulate ADDS src (n) into dst (n): the backward of a residual for each input.
#ifndef CLOZE_KERNELS_CPU_RESIDUAL_H_
#define CLOZE_KERNELS_CPU_RESIDUAL_H_

#include <cstdint>

namespace cloze::cpu {

template <typename T>
void residual_forward(T* out, const T* a, const T* b, int64_t n);

template <typename T>
void accumulate(T* dst, const T* src, int64_t n);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_RESIDUAL_H_
