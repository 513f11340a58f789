#include "kernels/cpu/embedding.h"

namespace cloze::cpu {

template <typename T>
void embedding_forward(T* out, const int32_t* ids, const int32_t* type_ids, const T* word,
                       const T* position, const T* type, int64_t b, int64_t t, int64_t c) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < b * t; ++row) {
    const T* w = word + static_cast<int64_t>(ids[row]) * c;
    const T* p = position + (row % t) * c;
    const T* y = type + static_cast<int64_t>(type_ids[row]) * c;
    T* o = out + row * c;
    for (int64_t i = 0; i < c; ++i) o[i] = w[i] + y[i] + p[i];
  }
}

template <typename T>
void embedding_backward(T* dword, T* dposition, T* dtype, const T* dout, const int32_t* ids,
                        const int32_t* type_ids, int64_t b, int64_t t, int64_t c, int32_t padding_id) {
  constexpr int64_t kBlock = 32;
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < c; begin += kBlock) {
    const int64_t end = begin + kBlock < c ? begin + kBlock : c;
    for (int64_t row = 0; row < b * t; ++row) {
      const T* g = dout + row * c;
      T* dp = dposition + (row % t) * c;
      T* dy = dtype + static_cast<int64_t>(type_ids[row]) * c;
      for (int64_t i = begin; i < end; ++i) {
        dp[i] += g[i];
        dy[i] += g[i];
      }
      if (ids[row] == padding_id) continue;
      T* dw = dword + static_cast<int64_t>(ids[row]) * c;
      for (int64_t i = begin; i < end; ++i) dw[i] += g[i];
    }
  }
}

#define CLOZE_INSTANTIATE(T)                                                                  \
  template void embedding_forward<T>(T*, const int32_t*, const int32_t*, const T*, const T*,  \
                                     const T*, int64_t, int64_t, int64_t);                    \
  template void embedding_backward<T>(T*, T*, T*, const T*, const int32_t*, const int32_t*,   \
                                      int64_t, int64_t, int64_t, int32_t);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
