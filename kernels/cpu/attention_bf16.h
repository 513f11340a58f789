// attention_forward/backward's bf16 path (attention.h at Precision::kBf16 on a CPU with
// CpuHasBf16): the same contract and the same four products per head with bf16 operands and
// fp32 accumulation, arranged so that each operand goes to bf16 once: qkv (and, backward,
// the output gradient) once per call for all heads, the probabilities and the softmax's
// gradient in the pass that makes them. The softmax and its gradient run 16 lanes wide with
// fast_math.h's exp (relative error below 2e-7), fp32 throughout; probs is saved in fp32.
//
// Only for callers that checked CpuHasBf16 (bf16_gemm.h). Where oneDNN has no bf16 product for
// a shape, that product runs in fp32.
#ifndef CLOZE_KERNELS_CPU_ATTENTION_BF16_H_
#define CLOZE_KERNELS_CPU_ATTENTION_BF16_H_

#include <cstdint>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/dropout.h"

namespace cloze::cpu {

void attention_forward_bf16(float* out, float* probs, const float* qkv, const int32_t* key_mask,
                            const AttentionShape& shape, const DropoutSpec& dropout);
void attention_backward_bf16(float* dqkv, const float* dout, const float* qkv, const float* probs,
                             const AttentionShape& shape, const DropoutSpec& dropout);

// masked_softmax_forward's contract, 16 lanes wide (fast_math.h's exp).
void masked_softmax_forward_wide(float* probs, const float* scores, const int32_t* key_mask, int64_t rows,
                                 int64_t t);
// dscores (rows, t) = probs ⊙ (dprobs − Σ_j dprobs·probs): masked_softmax_backward's value,
// written (not added), 16 lanes wide.
void masked_softmax_backward_wide(float* dscores, const float* dprobs, const float* probs, int64_t rows, int64_t t);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_ATTENTION_BF16_H_
