// The fused attention's kernels, replayed on the host (testing/fused_attention_emulation.h:
// the same grid, staging and row functions), against cpu::attention_forward/backward.
// Runs everywhere, without CUDA: it is what checks the fused kernels' math, tiling,
// masking and dropout on machines without a GPU.
//   double: the algorithm itself (online softmax, lse, Δ, dQ/dK/dV rows) to ~1e-12.
//   float:  the GPU's precision, against the CPU's float ops, to ~1e-5 of the tensor's RMS.
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/testing/compare.h"
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
  const std::vector<T> qkv = GaussianAs<T>(rng, s.batch * s.seq * 3 * s.hidden);
  const std::vector<T> dout = GaussianAs<T>(rng, s.batch * s.seq * s.hidden);
  const std::vector<T> dqkv_start = GaussianAs<T>(rng, qkv.size());
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
  EXPECT_EQ(CompareScaled(out, want_out, out_limit, "fused"), "") << "out";
  EXPECT_EQ(CompareScaled(dqkv, want_dqkv, grad_limit, "fused"), "") << "dqkv";

  // lse: finite rows against plain loops; the padded sequence's rows exactly −inf.
  EXPECT_EQ(CompareLse(lse, ReferenceLse(qkv, mask, s), 4 * out_limit, "emulated", "reference"),
            "");
  EXPECT_EQ(PaddedSequenceError(c, out, dqkv, dqkv_start), "");
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
  EXPECT_NE(CompareScaled(out_with, out_without, 1e-3), "");
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
