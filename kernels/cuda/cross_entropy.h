// Softmax cross-entropy on the GPU: the CUDA twin of kernels/cpu/cross_entropy.h, in float.
//
// Same signatures and contracts as the CPU ops, on DEVICE pointers (labels too).
// Shapes: logits, probs (m, v); labels (m); losses (m). Forward writes
// probs = softmax(logits) and losses[r] = −log probs[r][labels[r]], 0 for rows with
// labels[r] < 0; labels ≥ v are a caller error. One block per row.
// Backward ADDS (probs − onehot(label))·scale into dlogits for every counted row; one
// thread per element, deterministic. dlogits must not alias probs.
// Calls only enqueue work on the default stream; errors surface at the next
// device_synchronize() (device.h). m <= 0 or v <= 0 does nothing.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_CROSS_ENTROPY_H_
#define CLOZE_KERNELS_CUDA_CROSS_ENTROPY_H_

#include <cstdint>

namespace cloze::cuda {

void softmax_cross_entropy_forward(float* losses, float* probs, const float* logits,
                                   const int32_t* labels, int64_t m, int64_t v);

void softmax_cross_entropy_backward(float* dlogits, const float* probs, const int32_t* labels,
                                    int64_t m, int64_t v, float scale);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_CROSS_ENTROPY_H_
