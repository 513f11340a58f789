// The fused attention's kernels, replayed on the host (testing/fused_attention_emulation.h:
// the same grid, staging and row functions), against cpu::attention_forward/backward.
// Runs everywhere, without CUDA: it is what checks the fused kernels' math, tiling,
// masking and dropout on machines without a GPU.
//   double: the algorithm itself (online softmax, lse, Δ, dQ/dK/dV rows) to ~1e-12.
//   float:  the GPU's precision, against the CPU's float ops, to ~1e-5 of the tensor's RMS.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/testing/fused_attention_cases.h"
#include "kernels/cuda/testing/fused_attention_emulation.h"

namespace cloze::cuda::testing {
namespace {

// Limits, as |got − want| / (|want| + RMS(want)). Double: only rounding separates the
// fused order of operations from the CPU's (seen: 4e-15). Float: the probabilities are
// exp(s − lse) here and exp(s − max)/sum on the CPU, a few ulp apart, summed over T keys,
// and dqkv goes through the softmax backward's cancellation (dp − Δ); seen: 2.5e-6 (out)
// and 1e-6 (dqkv), so 1e-5 leaves a 4x margin; planted bugs (dropout ignored in dV, one
// tile element left unstaged) fail 21 and 49 of the 50 tests.
constexpr double kDoubleLimit = 1e-13;
constexpr double kFloatOutLimit = 1e-5;
constexpr double kFloatGradLimit = 1e-5;

// "" when every element is within `limit` (NaN fails), else the worst element.
template <typename T>
std::string CompareToScale(const std::vector<T>& got, const std::vector<T>& want, double limit) {
  if (got.size() != want.size()) return "size mismatch";
  double sum = 0;
  for (T w : want) sum += double(w) * double(w);
  const double floor = std::max(want.empty() ? 0.0 : std::sqrt(sum / want.size()), 1e-30);
  double worst = -1;
  size_t worst_i = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::fabs(double(got[i]) - double(want[i])) / (std::fabs(double(want[i])) + floor);
    if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    if (err > worst) worst = err, worst_i = i;
  }
  if (worst <= limit) return "";
  char text[200];
  std::snprintf(text, sizeof(text), "element %zu of %zu: fused=%.17g cpu=%.17g, error %.3g > %.3g",
                worst_i, got.size(), double(got[worst_i]), double(want[worst_i]), worst, limit);
  return text;
}

template <typename T>
std::vector<T> Gaussian(std::mt19937_64& rng, int64_t n) {
  std::normal_distribution<double> normal(0.0, 1.0);
  std::vector<T> v(n);
  for (T& x : v) x = T(normal(rng));
  return v;
}

// Each query row's log-sum-exp of its scaled, masked scores, by plain loops in double.
std::vector<double> ReferenceLse(const std::vector<double>& qkv, const std::vector<int32_t>& mask,
                                 const cpu::AttentionShape& s) {
  const int64_t d = s.head_dim(), c = s.hidden;
  const double scale = 1.0 / std::sqrt(double(d));
  std::vector<double> lse(s.batch * s.heads * s.seq);
  for (int64_t b = 0; b < s.batch; ++b) {
    for (int64_t h = 0; h < s.heads; ++h) {
      for (int64_t i = 0; i < s.seq; ++i) {
        std::vector<double> scores;
        const double* q = &qkv[(b * s.seq + i) * 3 * c + h * d];
        for (int64_t j = 0; j < s.seq; ++j) {
          if (!mask[b * s.seq + j]) continue;
          const double* k = &qkv[(b * s.seq + j) * 3 * c + c + h * d];
          double dot = 0;
          for (int64_t x = 0; x < d; ++x) dot += q[x] * k[x];
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

class FusedAttentionEmulationTest : public ::testing::TestWithParam<FusedCase> {};

// Forward then backward on the same data, in T, against the CPU's ops in T; the backward
// starts from random dqkv on both sides (it ADDS) and uses the emulation's own out and lse,
// as the GPU path would.
template <typename T>
void CheckAgainstCpu(const FusedCase& c, double out_limit, double grad_limit,
                     std::vector<T>* out_fused = nullptr) {
  const cpu::AttentionShape& s = c.shape;
  const cpu::DropoutSpec dropout = FusedCaseDropout(c);
  std::mt19937_64 rng(7000 + s.seq * 10 + s.heads + (c.padded_sequence ? 1 : 0));
  const std::vector<T> qkv = Gaussian<T>(rng, s.batch * s.seq * 3 * s.hidden);
  const std::vector<T> dout = Gaussian<T>(rng, s.batch * s.seq * s.hidden);
  const std::vector<T> dqkv_start = Gaussian<T>(rng, qkv.size());
  const std::vector<int32_t> mask = FusedCaseMask(c, rng);

  std::vector<T> want_out(dout.size()), probs(s.batch * s.heads * s.seq * s.seq);
  cpu::attention_forward(want_out.data(), probs.data(), qkv.data(), mask.data(), s, dropout);
  std::vector<T> want_dqkv = dqkv_start;
  cpu::attention_backward(want_dqkv.data(), dout.data(), qkv.data(), probs.data(), s, dropout);

  const T nan = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> out(dout.size(), nan), lse(fused_attention_lse_floats(s), nan);
  emulate_forward_any(out.data(), lse.data(), qkv.data(), mask.data(), s, dropout);
  std::vector<T> dqkv = dqkv_start;
  emulate_backward_any(dqkv.data(), dout.data(), qkv.data(), out.data(), lse.data(), mask.data(),
                       s, dropout);
  EXPECT_EQ(CompareToScale(out, want_out, out_limit), "") << "out";
  EXPECT_EQ(CompareToScale(dqkv, want_dqkv, grad_limit), "") << "dqkv";

  // lse: finite rows against plain loops; the padded sequence's rows exactly −inf.
  std::vector<double> qkv_d(qkv.begin(), qkv.end());
  const std::vector<double> want_lse = ReferenceLse(qkv_d, mask, s);
  for (size_t r = 0; r < lse.size(); ++r) {
    if (std::isinf(want_lse[r])) {
      EXPECT_TRUE(std::isinf(lse[r]) && lse[r] < 0) << "lse row " << r << " = " << lse[r];
    } else {
      EXPECT_NEAR(double(lse[r]), want_lse[r], 4 * out_limit * (1 + std::fabs(want_lse[r])))
          << "lse row " << r;
    }
  }
  // The all-padding sequence: out rows exactly 0, its dqkv rows untouched.
  if (c.padded_sequence) {
    for (int64_t x = s.seq * s.hidden; x < 2 * s.seq * s.hidden; ++x) ASSERT_EQ(out[x], T(0));
    for (int64_t x = s.seq * 3 * s.hidden; x < 2 * s.seq * 3 * s.hidden; ++x) {
      ASSERT_EQ(dqkv[x], dqkv_start[x]);
    }
  }
  if (out_fused) *out_fused = out;
}

TEST_P(FusedAttentionEmulationTest, DoubleMatchesCpuReference) {
  CheckAgainstCpu<double>(GetParam(), kDoubleLimit, kDoubleLimit);
}

TEST_P(FusedAttentionEmulationTest, FloatMatchesCpu) {
  CheckAgainstCpu<float>(GetParam(), kFloatOutLimit, kFloatGradLimit);
}

INSTANTIATE_TEST_SUITE_P(Cases, FusedAttentionEmulationTest, ::testing::ValuesIn(FusedCases()),
                         [](const ::testing::TestParamInfo<FusedCase>& info) {
                           return FusedCaseName(info.param);
                         });

// Dropout must reach the output (a mask that never drops would pass the comparisons above
// only if the CPU's also never dropped; this pins that it does drop).
TEST(FusedAttentionEmulation, DropoutChangesTheOutput) {
  FusedCase with{{2, 33, 256, 4}, 0.1f, false}, without = with;
  without.dropout = 0.0f;
  std::vector<double> out_with, out_without;
  CheckAgainstCpu<double>(with, kDoubleLimit, kDoubleLimit, &out_with);
  CheckAgainstCpu<double>(without, kDoubleLimit, kDoubleLimit, &out_without);
  EXPECT_NE(CompareToScale(out_with, out_without, 1e-3), "");
}

TEST(FusedAttentionShape, AcceptsHeadDims64And128Only) {
  EXPECT_EQ(fused_attention_shape_error({2, 128, 768, 12}), "");   // BERT-base, D 64
  EXPECT_EQ(fused_attention_shape_error({2, 128, 4096, 32}), "");  // D 128
  const std::string d32 = fused_attention_shape_error({2, 128, 256, 8});
  EXPECT_NE(d32.find("D = 32"), std::string::npos) << d32;
  const std::string ragged = fused_attention_shape_error({2, 128, 100, 3});
  EXPECT_NE(ragged.find("not divisible"), std::string::npos) << ragged;
  const std::string too_long = fused_attention_shape_error({1, kFusedAttentionMaxSeq + 1, 768, 12});
  EXPECT_NE(too_long.find("exceeds"), std::string::npos) << too_long;
  EXPECT_EQ(fused_attention_shape_error({1, kFusedAttentionMaxSeq, 768, 12}), "");
}

}  // namespace
}  // namespace cloze::cuda::testing
