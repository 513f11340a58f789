// Softmax cross-entropy over class logits, for the MLM and sentence-order heads.
//
// Shapes: logits, probs (m, v); labels (m); losses (m).
// Forward writes probs = softmax(logits) and losses[r] = −log probs[r][labels[r]]; rows
// with labels[r] < 0 are ignored (loss 0; Hugging Face's −100 convention). Labels ≥ v are
// a caller error (the model validates batches).
// Backward ADDS (probs − onehot(label)) · scale into dlogits for every counted row; the
// caller picks scale (1 / number of counted rows gives the gradient of the mean loss).
#ifndef CLOZE_KERNELS_CPU_CROSS_ENTROPY_H_
#define CLOZE_KERNELS_CPU_CROSS_ENTROPY_H_

#include <cstdint>

namespace cloze::cpu {

template <typename T>
void softmax_cross_entropy_forward(T* losses, T* probs, const T* logits, const int32_t* labels,
                                   int64_t m, int64_t v);

template <typename T>
void softmax_cross_entropy_backward(T* dlogits, const T* probs, const int32_t* labels, int64_t m,
                                    int64_t v, T scale);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_CROSS_ENTROPY_H_
