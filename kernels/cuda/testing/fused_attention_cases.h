// The cases both fused attention tests run (the host emulation test and the GPU test), so
// what passes on the host is what the GPU is asked to reproduce. Header-only, plain C++.
#ifndef CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_CASES_H_
#define CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_CASES_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "kernels/cpu/attention.h"
#include "kernels/cpu/dropout.h"

namespace cloze::cuda::testing {

struct FusedCase {
  cpu::AttentionShape shape;
  float dropout;
  bool padded_sequence;  // sequence 1 is all padding (its rows: out 0, no gradient)
};

// B 2; T 1, 7, 33 and 128 (none but 128 a multiple of the 32-row tile or 64-row block;
// 33 leaves a one-row tile); NH 2 to 4; D 64 and 128; dropout off and on.
inline std::vector<FusedCase> FusedCases() {
  std::vector<FusedCase> cases;
  const cpu::AttentionShape shapes[] = {
      {2, 1, 128, 2},  {2, 7, 384, 3},   {2, 33, 256, 4},
      {2, 33, 384, 3}, {2, 128, 256, 4}, {2, 128, 256, 2},
  };
  for (const cpu::AttentionShape& s : shapes) {
    for (float p : {0.0f, 0.1f}) {
      for (bool padded : {false, true}) cases.push_back({s, p, padded});
    }
  }
  return cases;
}

inline std::string FusedCaseName(const FusedCase& c) {
  const cpu::AttentionShape& s = c.shape;
  return "b" + std::to_string(s.batch) + "_t" + std::to_string(s.seq) + "_h" +
         std::to_string(s.heads) + "_d" + std::to_string(s.head_dim()) + "_p" +
         std::to_string(int(c.dropout * 100)) + (c.padded_sequence ? "_padded" : "");
}

// Random keys padded, about one in four, but the first key of sequence 0 is always real;
// sequence 1 all padding when the case asks for it.
inline std::vector<int32_t> FusedCaseMask(const FusedCase& c, std::mt19937_64& rng) {
  const cpu::AttentionShape& s = c.shape;
  std::bernoulli_distribution real(0.75);
  std::vector<int32_t> mask(s.batch * s.seq);
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t t = 0; t < s.seq; ++t) {
      mask[b * s.seq + t] = (b == 1 && c.padded_sequence) ? 0 : (b == 0 && t == 0) || real(rng);
    }
  }
  return mask;
}

// A nonzero first_index that is not a Philox block boundary, as a data-parallel worker's.
inline cpu::DropoutSpec FusedCaseDropout(const FusedCase& c) {
  cpu::DropoutSpec spec;
  spec.p = c.dropout;
  spec.seed = 1234;
  spec.stream = 9;
  spec.first_index = 4099;
  return spec;
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_CASES_H_
