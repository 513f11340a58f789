// The cases of the tensor-core attention's tests (host emulation and GPU): the fp32 fused
// kernels' cases (fused_attention_cases.h: T 1, 7, 33, 128) plus T 64 (exactly one 64-row
// tile), 100 (a padded second tile of 36) and 256 (four tiles), each at D 64 or 128, with
// dropout off and on, with and without an all-padding sequence. Header-only, plain C++.
#ifndef CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_TC_CASES_H_
#define CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_TC_CASES_H_

#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cuda/testing/fused_attention_cases.h"

namespace cloze::cuda::testing {

inline std::vector<FusedCase> FusedTcCases() {
  std::vector<FusedCase> cases = FusedCases();
  const cpu::AttentionShape shapes[] = {
      {2, 64, 512, 4},   // D 128
      {2, 100, 256, 4},  // D 64
      {2, 100, 384, 3},  // D 128
      {2, 256, 128, 2},  // D 64
  };
  for (const cpu::AttentionShape& s : shapes) {
    for (float p : {0.0f, 0.1f}) {
      for (bool padded : {false, true}) cases.push_back({s, p, padded});
    }
  }
  return cases;
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_TC_CASES_H_
