#include "kernels/cpu/squared_error.h"

namespace cloze::cpu {

template <typename T>
void squared_error_forward(T* losses, const T* predictions, const T* targets, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const T diff = predictions[i] - targets[i];
    losses[i] = diff * diff;
  }
}

template <typename T>
void squared_error_backward(T* dpredictions, const T* predictions, const T* targets, int64_t n, T scale) {
  for (int64_t i = 0; i < n; ++i) dpredictions[i] += T(2) * (predictions[i] - targets[i]) * scale;
}

template void squared_error_forward<float>(float*, const float*, const float*, int64_t);
template void squared_error_forward<double>(double*, const double*, const double*, int64_t);
template void squared_error_backward<float>(float*, const float*, const float*, int64_t, float);
template void squared_error_backward<double>(double*, const double*, const double*, int64_t, double);

}  // namespace cloze::cpu
