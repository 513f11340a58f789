// Layer normalisation over the last axis, as nn.LayerNorm (biased variance).
//
// Shapes: inp, out (n, c); weight, bias (c); mean, rstd (n), written by forward and
// read by backward (rstd = 1 / sqrt(var + eps)).
// Forward overwrites out, mean, rstd. Backward ADDS into dinp (n, c), dweight and dbias (c).
#ifndef CLOZE_KERNELS_CPU_LAYERNORM_H_
#define CLOZE_KERNELS_CPU_LAYERNORM_H_

#include <cstdint>

namespace cloze::cpu {

template <typename T>
void layernorm_forward(T* out, T* mean, T* rstd, const T* inp, const T* weight, const T* bias,
                       int64_t n, int64_t c, T eps);

template <typename T>
void layernorm_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                        const T* weight, const T* mean, const T* rstd, int64_t n, int64_t c);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_LAYERNORM_H_
