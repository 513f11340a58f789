// Squared error against float targets, for regression heads (STS-B): Hugging Face's
// MSELoss is the mean of these over the batch.
//
// Shapes: predictions, targets, losses (n).
// Forward writes losses[i] = (predictions[i] − targets[i])².
// Backward ADDS 2 · (predictions[i] − targets[i]) · scale into dpredictions[i]; the caller
// picks scale (1 / n gives the gradient of the mean).
#ifndef CLOZE_KERNELS_CPU_SQUARED_ERROR_H_
#define CLOZE_KERNELS_CPU_SQUARED_ERROR_H_

#include <cstdint>

namespace cloze::cpu {

template <typename T>
void squared_error_forward(T* losses, const T* predictions, const T* targets, int64_t n);
template <typename T>
void squared_error_backward(T* dpredictions, const T* predictions, const T* targets, int64_t n, T scale);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_SQUARED_ERROR_H_
