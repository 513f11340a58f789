// The CPU twin of cuda::dropout_residual_layernorm_* (residual_layernorm.h): the composition
// of CPU ops the encoder layer runs per sublayer, with the fused op's signature and semantics
// (sum and dx overwritten; dresidual, dweight, dbias added to). Header-only, for tests.
#ifndef CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_REFERENCE_H_
#define CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_REFERENCE_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/dropout.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cpu/residual.h"

namespace cloze::cuda::testing {

// sum = dropout(x) + residual (dropout in place, as the model runs it); out = layernorm(sum).
template <typename T>
void ReferenceForward(T* out, T* sum, T* mean, T* rstd, const T* x, const T* residual,
                      const T* weight, const T* bias, int64_t n, int64_t c, T eps,
                      const cpu::DropoutSpec& dropout) {
  std::copy(x, x + n * c, sum);
  cpu::dropout_forward(sum, sum, n * c, dropout);
  cpu::residual_forward(sum, sum, residual, n * c);
  cpu::layernorm_forward(out, mean, rstd, sum, weight, bias, n, c, eps);
}

// d_sum from layernorm_backward into zeros; dresidual += d_sum; dx = dropout_backward of
// d_sum into zeros; dweight, dbias added to by layernorm_backward.
template <typename T>
void ReferenceBackward(T* dx, T* dresidual, T* dweight, T* dbias, const T* dout, const T* sum,
                       const T* weight, const T* mean, const T* rstd, int64_t n, int64_t c,
                       const cpu::DropoutSpec& dropout) {
  std::vector<T> d_sum(n * c, T(0));
  cpu::layernorm_backward(d_sum.data(), dweight, dbias, dout, sum, weight, mean, rstd, n, c);
  cpu::accumulate(dresidual, d_sum.data(), n * c);
  std::fill(dx, dx + n * c, T(0));
  cpu::dropout_backward(dx, d_sum.data(), n * c, dropout);
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_RESIDUAL_LAYERNORM_REFERENCE_H_
