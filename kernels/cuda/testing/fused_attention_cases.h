// The cases the fused attention tests run (the host emulation tests and the GPU tests), so
// what passes on the host is what the GPU is asked to reproduce, and the checks of lse and
// of the all-padding sequence they share. Header-only, plain C++.
#ifndef CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_CASES_H_
#define CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_CASES_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
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

// Each query row's log-sum-exp of its scaled, masked scores (−inf for a row with no real
// key), by plain loops in double from qkv in T.
template <typename T>
std::vector<double> ReferenceLse(const std::vector<T>& qkv, const std::vector<int32_t>& mask,
                                 const cpu::AttentionShape& s) {
  const int64_t d = s.head_dim(), c = s.hidden;
  const double scale = 1.0 / std::sqrt(double(d));
  std::vector<double> lse(s.batch * s.heads * s.seq);
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t h = 0; h < s.heads; ++h) {
      for (int64_t i = 0; i < s.seq; ++i) {
        std::vector<double> scores;
        const T* q = &qkv[(b * s.seq + i) * 3 * c + h * d];
        for (int64_t j = 0; j < s.seq; ++j) {
          if (!mask[b * s.seq + j]) continue;
          const T* k = &qkv[(b * s.seq + j) * 3 * c + c + h * d];
          double dot = 0;
          for (int64_t x = 0; x < d; ++x) dot += double(q[x]) * double(k[x]);
          scores.push_back(scale * dot);
        }
        double max = -std::numeric_limits<double>::infinity(), sum = 0;
        for (double v : scores) max = std::max(max, v);
        for (double v : scores) sum += std::exp(v - max);
        lse[(b * s.heads + h) * s.seq + i] = scores.empty() ? max : max + std::log(sum);
      }
    }
  }
  return lse;
}

// "" when every row's lse is within limit·(1 + |want|) of want's, and exactly want's where
// that is infinite (an all-padding row's −inf); else the first row that is not.
template <typename Got, typename Want>
std::string CompareLse(const std::vector<Got>& got, const std::vector<Want>& want, double limit,
                       const char* got_name = "cuda", const char* want_name = "emulated") {
  if (got.size() != want.size()) return "lse size mismatch";
  for (size_t r = 0; r < want.size(); ++r) {
    const double g = double(got[r]), w = double(want[r]);
    const bool ok = std::isinf(w) ? g == w : std::fabs(g - w) <= limit * (1 + std::fabs(w));
    if (!ok) {
      return "lse row " + std::to_string(r) + ": " + got_name + "=" + std::to_string(g) + " " +
             want_name + "=" + std::to_string(w);
    }
  }
  return "";
}

// "" unless the case pads sequence 1 entirely and its out rows are not exactly 0 or its
// dqkv rows differ from dqkv_start (nothing may be added for a sequence without keys).
template <typename T>
std::string PaddedSequenceError(const FusedCase& c, const std::vector<T>& out,
                                const std::vector<T>& dqkv, const std::vector<T>& dqkv_start) {
  if (!c.padded_sequence) return "";
  const int64_t t = c.shape.seq, hidden = c.shape.hidden;
  for (int64_t x = t * hidden; x < 2 * t * hidden; ++x) {
    if (out[x] != T(0)) return "padded sequence's out[" + std::to_string(x) + "] is not 0";
  }
  for (int64_t x = t * 3 * hidden; x < 2 * t * 3 * hidden; ++x) {
    if (dqkv[x] != dqkv_start[x]) {
      return "padded sequence's dqkv[" + std::to_string(x) + "] changed";
    }
  }
  return "";
}

}  // namespace cloze::cuda::testing

#endif  // CLOZE_KERNELS_CUDA_TESTING_FUSED_ATTENTION_CASES_H_
