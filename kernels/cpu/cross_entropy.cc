#include "kernels/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>

namespace cloze::cpu {

template <typename T>
void softmax_cross_entropy_forward(T* losses, T* probs, const T* logits, const int32_t* labels,
                                   int64_t m, int64_t v) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < m; ++r) {
    const T* z = logits + r * v;
    T* p = probs + r * v;
    T max = z[0];
    for (int64_t j = 1; j < v; ++j) max = std::max(max, z[j]);
    T sum = T(0);
    for (int64_t j = 0; j < v; ++j) {
      p[j] = std::exp(z[j] - max);
      sum += p[j];
    }
    for (int64_t j = 0; j < v; ++j) p[j] /= sum;
    // log-sum-exp form: exact even when the label's probability underflows.
    losses[r] = labels[r] >= 0 ? std::log(sum) + max - z[labels[r]] : T(0);
  }
}

template <typename T>
void softmax_cross_entropy_backward(T* dlogits, const T* probs, const int32_t* labels, int64_t m,
                                    int64_t v, T scale) {
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < m; ++r) {
    if (labels[r] < 0) continue;
    const T* p = probs + r * v;
    T* d = dlogits + r * v;
    for (int64_t j = 0; j < v; ++j) d[j] += p[j] * scale;
    d[labels[r]] -= scale;
  }
}

template void softmax_cross_entropy_forward<float>(float*, float*, const float*, const int32_t*,
                                                   int64_t, int64_t);
template void softmax_cross_entropy_backward<float>(float*, const float*, const int32_t*, int64_t,
                                                    int64_t, float);
template void softmax_cross_entropy_forward<double>(double*, double*, const double*,
                                                    const int32_t*, int64_t, int64_t);
template void softmax_cross_entropy_backward<double>(double*, const double*, const int32_t*,
                                                     int64_t, int64_t, double);

}  // namespace cloze::cpu
