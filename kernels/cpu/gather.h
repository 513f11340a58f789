// Row gather: the MLM head runs only on masked positions, the pooler only on [CLS].
//
// out (m, c) = inp rows rows[0..m) of inp (·, c). Backward ADDS dout's rows back into
// dinp at the same rows; repeated row indices accumulate. Indices must be in range.
#ifndef CLOZE_KERNELS_CPU_GATHER_H_
#define CLOZE_KERNELS_CPU_GATHER_H_

#include <cstdint>

namespace cloze::cpu {

template <typename T>
void gather_rows_forward(T* out, const T* inp, const int32_t* rows, int64_t m, int64_t c);

template <typename T>
void gather_rows_backward(T* dinp, const T* dout, const int32_t* rows, int64_t m, int64_t c);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_GATHER_H_
