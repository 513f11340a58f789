// What the unfused attention's tests share: the padding masks, the dropout spec, and the
// bf16 limits, used by the GPU test (attention_cuda_test) and by the host replay that
// checks those limits are sound (attention_heads_test). Plain C++.
#ifndef CLOZE_KERNELS_CUDA_TESTING_ATTENTION_CASES_H_
#define CLOZE_KERNELS_CUDA_TESTING_ATTENTION_CASES_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/cpu/attention.h"

namespace cloze::cuda::testing {

// bf16 operands (8-bit significands, relative rounding 2^-9) against the CPU's fp32. The
// host replay of the bf16 products (attention_heads_test) measures a relative RMS error
// (compare.h's RelativeRmsError) of 1e-3 to 5e-3 for probs, out and the dqkv gradient, and
// a worst element up to 3e-2 of the tensor's RMS; cuBLAS's fp32 accumulation adds little
// to that. A wrong scale, operand or head slice gives errors of order 1.
constexpr double kBf16RmsLimit = 1e-2;
constexpr double kBf16ElementLimit = 6e-2;  // worst element, as a fraction of the RMS

// Per sequence, by b % 4: all real tokens; a padded tail (the last T/3 keys); all padding
// (its rows must be all-zero probabilities); a single real token.
inline std::vector<int32_t> PaddingMask(const cpu::AttentionShape& s) {
  std::vector<int32_t> mask(s.batch * s.seq, 1);
  for (int64_t b = 0; b < s.batch; ++b) {
    const int64_t kinds[4] = {s.seq, s.seq - s.seq / 3, 0, std::min<int64_t>(1, s.seq)};
    for (int64_t t = kinds[b % 4]; t < s.seq; ++t) mask[b * s.seq + t] = 0;
  }
  return mask;
}

inline cpu::DropoutSpec SpecFor(float p) {
  cpu::DropoutSpec spec;
  spec.p = p;
  spec.seed = 77;
  spec.stream = 5;
  spec.first_index = 3;  // not a Philox block boundary
  return spec;
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_ATTENTION_CASES_H_
