// The tensor-core attention's kernels, replayed on the host (testing/
// fused_attention_tc_emulation.h: the same block programs with plain-loop tile ops), against
// cpu::attention_forward/backward in float. Runs everywhere, without CUDA: it is what checks
// the bf16 kernels' math, tiling, padding, masking and dropout on machines without a GPU.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/fused_attention_tc.h"
#include "kernels/cuda/fused_attention_tc_layout.h"
#include "kernels/cuda/tc_tile_ops.h"
#include "kernels/cuda/testing/compare.h"
#include "kernels/cuda/testing/fused_attention_cases.h"
#include "kernels/cuda/testing/fused_attention_tc_cases.h"
#include "kernels/cuda/testing/fused_attention_tc_emulation.h"

namespace cloze::cuda::testing {
namespace {

// Limits against the CPU's float ops on the same fp32 inputs, so they cover the kernels' bf16
// rounding of Q, K, V, dout, P and dS. Over all 80 cases the worst seen were:
//   RMS(error) / RMS(want):                out 3.2e-3, dqkv 2.1e-3  (limit 1e-2)
//   worst |error| / (|want| + RMS(want)):  out 2.3e-2, dqkv 1.1e-2  (limit 4e-2)
// With Q, K, V, dout rounded to bf16 before the CPU runs, the RMS errors halve (1.3e-3,
// 2e-3) and T = 1 (P = 1 exactly) matches to 0: what is left is P's and dS's rounding.
// lse: absolute, for scores of a few units rounded at 2^-9.
constexpr double kOutLimit = 4e-2;
constexpr double kGradLimit = 4e-2;
constexpr double kLseLimit = 1e-2;
constexpr double kOutRmsLimit = 1e-2;
constexpr double kGradRmsLimit = 1e-2;

std::vector<float> RoundedToBf16(std::vector<float> v) {
  for (float& x : v) x = from_bf16(to_bf16(x));
  return v;
}

void CpuAttention(std::vector<float>* out, std::vector<float>* dqkv, const std::vector<float>& qkv,
                  const std::vector<float>& dout, const std::vector<float>& dqkv_start,
                  const std::vector<int32_t>& mask, const cpu::AttentionShape& s,
                  const cpu::DropoutSpec& dropout) {
  std::vector<float> probs(s.batch * s.heads * s.seq * s.seq);
  out->resize(dout.size());
  cpu::attention_forward(out->data(), probs.data(), qkv.data(), mask.data(), s, dropout);
  *dqkv = dqkv_start;
  cpu::attention_backward(dqkv->data(), dout.data(), qkv.data(), probs.data(), s, dropout);
}

// One case's data, the CPU's results, and the emulation's.
struct CaseRun {
  std::vector<float> qkv, dout, dqkv_start;
  std::vector<int32_t> mask;
  std::vector<float> want_out, want_dqkv;  // the CPU's, from qkv and dout
  std::vector<float> near_out, near_dqkv;  // the CPU's, from qkv and dout rounded to bf16
  std::vector<float> out, lse, dqkv;
};

CaseRun RunCase(const FusedCase& c, bool reverse = false) {
  const cpu::AttentionShape& s = c.shape;
  const cpu::DropoutSpec dropout = FusedCaseDropout(c);
  std::mt19937_64 rng(9000 + s.seq * 10 + s.heads + (c.padded_sequence ? 1 : 0));
  CaseRun run;
  run.qkv = Gaussian(rng, s.batch * s.seq * 3 * s.hidden);
  run.dout = Gaussian(rng, s.batch * s.seq * s.hidden);
  run.dqkv_start = Gaussian(rng, run.qkv.size());
  run.mask = FusedCaseMask(c, rng);

  CpuAttention(&run.want_out, &run.want_dqkv, run.qkv, run.dout, run.dqkv_start, run.mask, s,
               dropout);
  CpuAttention(&run.near_out, &run.near_dqkv, RoundedToBf16(run.qkv), RoundedToBf16(run.dout),
               run.dqkv_start, run.mask, s, dropout);

  const float nan = std::numeric_limits<float>::quiet_NaN();
  run.out.assign(run.dout.size(), nan);
  run.lse.assign(fused_attention_lse_floats(s), nan);
  emulate_forward_bf16_any(run.out.data(), run.lse.data(), run.qkv.data(), run.mask.data(), s,
                           dropout, reverse);
  run.dqkv = run.dqkv_start;
  emulate_backward_bf16_any(run.dqkv.data(), run.dout.data(), run.qkv.data(), run.out.data(),
                            run.lse.data(), run.mask.data(), s, dropout, reverse);
  return run;
}

class FusedAttentionTcEmulationTest : public ::testing::TestWithParam<FusedCase> {};

TEST_P(FusedAttentionTcEmulationTest, MatchesCpuWithinBf16Rounding) {
  const FusedCase& c = GetParam();
  const cpu::AttentionShape& s = c.shape;
  const CaseRun run = RunCase(c);
  EXPECT_EQ(CompareScaled(run.out, run.want_out, kOutLimit, "emulated"), "") << "out";
  EXPECT_EQ(CompareScaled(run.dqkv, run.want_dqkv, kGradLimit, "emulated"), "") << "dqkv";
  EXPECT_LE(RelativeRmsError(run.out, run.want_out), kOutRmsLimit);
  EXPECT_LE(RelativeRmsError(run.dqkv, run.want_dqkv), kGradRmsLimit);
  std::printf("errors: worst out %.3g dqkv %.3g, rms out %.3g dqkv %.3g; bf16 inputs: worst out %.3g dqkv %.3g, rms out %.3g dqkv %.3g\n",
              WorstScaledError(run.out, run.want_out).error,
              WorstScaledError(run.dqkv, run.want_dqkv).error,
              RelativeRmsError(run.out, run.want_out), RelativeRmsError(run.dqkv, run.want_dqkv),
              WorstScaledError(run.out, run.near_out).error,
              WorstScaledError(run.dqkv, run.near_dqkv).error,
              RelativeRmsError(run.out, run.near_out), RelativeRmsError(run.dqkv, run.near_dqkv));

  // lse: finite rows against plain loops in double; the padded sequence's rows exactly −inf.
  const std::vector<double> want_lse = ReferenceLse(run.qkv, run.mask, s);
  for (size_t r = 0; r < run.lse.size(); ++r) {
    if (std::isinf(want_lse[r])) {
      ASSERT_TRUE(std::isinf(run.lse[r]) && run.lse[r] < 0) << "lse row " << r << " = " << run.lse[r];
    } else {
      ASSERT_NEAR(double(run.lse[r]), want_lse[r], kLseLimit) << "lse row " << r;
    }
  }
  EXPECT_EQ(PaddedSequenceError(c, run.out, run.dqkv, run.dqkv_start), "");
}

// Phases must not read what another thread or warp writes in the same phase (only a barrier
// orders them on the GPU): running every phase's threads backwards must change nothing.
TEST_P(FusedAttentionTcEmulationTest, ThreadOrderDoesNotMatter) {
  const CaseRun forwards = RunCase(GetParam()), backwards = RunCase(GetParam(), /*reverse=*/true);
  EXPECT_EQ(0, std::memcmp(forwards.out.data(), backwards.out.data(), forwards.out.size() * 4));
  EXPECT_EQ(0, std::memcmp(forwards.lse.data(), backwards.lse.data(), forwards.lse.size() * 4));
  EXPECT_EQ(0, std::memcmp(forwards.dqkv.data(), backwards.dqkv.data(), forwards.dqkv.size() * 4));
}

INSTANTIATE_TEST_SUITE_P(Cases, FusedAttentionTcEmulationTest, ::testing::ValuesIn(FusedTcCases()),
                         [](const ::testing::TestParamInfo<FusedCase>& info) {
                           return FusedCaseName(info.param);
                         });

// Dropout must reach the output (the comparisons above would also pass if neither side
// dropped anything).
TEST(FusedAttentionTcEmulation, DropoutChangesTheOutput) {
  FusedCase with{{2, 100, 256, 4}, 0.1f, false}, without = with;
  without.dropout = 0.0f;
  EXPECT_GT(WorstScaledError(RunCase(with).out, RunCase(without).out).error, 0.1);
}

// The budget fused_attention_tc.h states, and what sm_80 (163 KiB) allows a block.
TEST(FusedAttentionTcLayout, SharedMemoryIsTheHeadersBudget) {
  EXPECT_EQ(tc::ForwardSmem<64>::kBytes, 72704u);
  EXPECT_EQ(tc::ForwardSmem<128>::kBytes, 113664u);
  EXPECT_EQ(tc::QueryGradSmem<64>::kBytes, 81664u);
  EXPECT_EQ(tc::QueryGradSmem<128>::kBytes, 114432u);
  EXPECT_EQ(tc::KeyGradSmem<64>::kBytes, 90880u);
  EXPECT_EQ(tc::KeyGradSmem<128>::kBytes, 123648u);
  EXPECT_LE(tc::KeyGradSmem<128>::kBytes, 163u * 1024);
}

// The kernels' rounding is bf16.h's (and __float2bfloat16_rn's): nearest even, NaN kept.
TEST(TcTileOps, RoundToBf16IsToBf16) {
  std::mt19937_64 rng(5);
  std::vector<float> values = {0.0f, -0.0f, 1.0f, 1.00390625f, 1.01171875f, 3.0e38f, -3.4e38f,
                               1e-40f, std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
  for (float x : Gaussian(rng, 10000)) values.push_back(x);
  for (float x : values) {
    const Bf16 want = to_bf16(x), got = tc::round_to_bf16(x);
    ASSERT_EQ(got.bits, want.bits) << x;
  }
}

// The tile layer's views, as the programs use them: A row-major times B column-major (a
// row-major buffer's transpose) and A column-major times B row-major, against plain loops.
TEST(TcTileOps, ViewsMultiplyAsDocumented) {
  constexpr int ld = 24;
  std::mt19937_64 rng(11);
  alignas(32) Bf16 x[16 * ld], y[16 * ld];  // WMMA's 256-bit alignment, which the ops check
  for (Bf16& v : x) v = to_bf16(Gaussian(rng, 1)[0]);
  for (Bf16& v : y) v = to_bf16(Gaussian(rng, 1)[0]);
  auto at = [&](const Bf16* m, int r, int c) { return double(from_bf16(m[r * ld + c])); };
  using Ops = tc::HostTileOps;
  Ops::Accumulator xy_t, x_t_y;
  Ops::fill(xy_t, 0.0f);
  Ops::fill(x_t_y, 0.0f);
  tc::mma_strip<Ops>(xy_t, tc::Bf16Matrix<false>{x, ld}, tc::Bf16Matrix<true>{y, ld},
                     0, 0, 16);
  tc::mma_strip<Ops>(x_t_y, tc::Bf16Matrix<true>{x, ld}, tc::Bf16Matrix<false>{y, ld},
                     0, 0, 16);
  for (int i = 0; i < 16; ++i) {
    for (int j = 0; j < 16; ++j) {
      double a = 0, b = 0;
      for (int k = 0; k < 16; ++k) a += at(x, i, k) * at(y, j, k), b += at(x, k, i) * at(y, k, j);
      EXPECT_NEAR(xy_t.x[i][j], a, 1e-5) << i << "," << j;
      EXPECT_NEAR(x_t_y.x[i][j], b, 1e-5) << i << "," << j;
    }
  }
}

TEST(FusedAttentionTcShape, SameLimitsAsTheFp32Kernels) {
  EXPECT_EQ(fused_attention_bf16_shape_error({2, 128, 768, 12}), "");
  EXPECT_EQ(fused_attention_bf16_shape_error({2, 100, 1536, 12}), "");  // D 128, ragged T
  EXPECT_NE(fused_attention_bf16_shape_error({2, 128, 256, 8}).find("D = 32"), std::string::npos);
  EXPECT_NE(fused_attention_bf16_shape_error({1, kFusedAttentionMaxSeq + 1, 768, 12}).find("exceeds"),
            std::string::npos);
}

}  // namespace
}  // namespace cloze::cuda::testing
