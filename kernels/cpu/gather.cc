#include "kernels/cpu/gather.h"

namespace cloze::cpu {

template <typename T>
void gather_rows_forward(T* out, const T* inp, const int32_t* rows, int64_t m, int64_t c) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < m; ++r) {
    const T* src = inp + static_cast<int64_t>(rows[r]) * c;
    for (int64_t i = 0; i < c; ++i) out[r * c + i] = src[i];
  }
}

template <typename T>
void gather_rows_backward(T* dinp, const T* dout, const int32_t* rows, int64_t m, int64_t c) {
  // Sequential over rows: two gathered rows may be the same source row.
  for (int64_t r = 0; r < m; ++r) {
    T* dst = dinp + static_cast<int64_t>(rows[r]) * c;
    for (int64_t i = 0; i < c; ++i) dst[i] += dout[r * c + i];
  }
}

template void gather_rows_forward<float>(float*, const float*, const int32_t*, int64_t, int64_t);
template void gather_rows_backward<float>(float*, const float*, const int32_t*, int64_t, int64_t);
template void gather_rows_forward<double>(double*, const double*, const int32_t*, int64_t, int64_t);
template void gather_rows_backward<double>(double*, const double*, const int32_t*, int64_t, int64_t);

}  // namespace cloze::cpu
