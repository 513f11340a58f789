// The tensor-core attention kernels on the GPU against the CPU twin (cpu::attention_*), the
// kernels' host emulation and the fp32 fused kernels, on the emulation test's cases
// (testing/fused_attention_tc_cases.h), with NaN-poisoned outputs and scratch, and bitwise
// repeatability. Skips, with the reason, where CUDA code is not built or no GPU is usable.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/fused_attention_tc.h"
#include "kernels/cuda/testing/cuda_test_support.h"
#include "kernels/cuda/testing/fused_attention_cases.h"
#include "kernels/cuda/testing/fused_attention_tc_cases.h"
#include "kernels/cuda/testing/fused_attention_tc_emulation.h"

namespace cloze::cuda {
namespace {

using testing::CompareScaled;
using testing::DeviceBuffer;
using testing::FusedCase;
using testing::Gaussian;
using testing::RelativeRmsError;

// Against the CPU and the fp32 kernels: the emulation test's bf16-level limits (worst
// element relative to |want| + RMS; whole tensor RMS). Against the emulation: the same bf16
// operands, so only the order of fp32 sums, expf and the odd operand rounded the other way
// (a P or dS straddling a bf16 rounding boundary) separate them.
constexpr double kWorstLimit = 4e-2;
constexpr double kRmsLimit = 1e-2;
constexpr double kEmulationWorstLimit = 1e-2;
constexpr double kEmulationRmsLimit = 1e-3;
constexpr double kLseLimit = 1e-3;  // vs the emulation's, relative to 1 + |lse|

class FusedAttentionTcCudaTest : public ::testing::TestWithParam<FusedCase> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

TEST_P(FusedAttentionTcCudaTest, MatchesCpuEmulationAndFp32Kernels) {
  const FusedCase& c = GetParam();
  const AttentionShape& s = c.shape;
  const DropoutSpec dropout = testing::FusedCaseDropout(c);
  std::mt19937_64 rng(8500 + s.seq * 10 + s.heads + (c.padded_sequence ? 1 : 0));
  const std::vector<float> qkv = Gaussian(rng, s.batch * s.seq * 3 * s.hidden);
  const std::vector<float> dout = Gaussian(rng, s.batch * s.seq * s.hidden);
  const std::vector<float> dqkv_start = Gaussian(rng, qkv.size());
  const std::vector<int32_t> mask = testing::FusedCaseMask(c, rng);

  // The CPU twin and the host emulation.
  std::vector<float> want_out(dout.size()), probs(s.batch * s.heads * s.seq * s.seq),
      want_dqkv = dqkv_start;
  cpu::attention_forward(want_out.data(), probs.data(), qkv.data(), mask.data(), s, dropout);
  cpu::attention_backward(want_dqkv.data(), dout.data(), qkv.data(), probs.data(), s, dropout);
  std::vector<float> emulated_out(dout.size()), emulated_lse(fused_attention_lse_floats(s)),
      emulated_dqkv = dqkv_start;
  testing::emulate_forward_bf16_any(emulated_out.data(), emulated_lse.data(), qkv.data(),
                                    mask.data(), s, dropout);
  testing::emulate_backward_bf16_any(emulated_dqkv.data(), dout.data(), qkv.data(),
                                     emulated_out.data(), emulated_lse.data(), mask.data(), s,
                                     dropout);

  // Forward twice and backward twice, each from poisoned outputs and scratch.
  DeviceBuffer<float> d_qkv(qkv), d_dout(dout), d_out(dout.size()), d_out_again(dout.size()),
      d_lse(fused_attention_lse_floats(s)), d_lse_again(fused_attention_lse_floats(s)),
      d_dqkv(dqkv_start), d_dqkv_again(dqkv_start),
      d_scratch(fused_attention_backward_scratch_floats(s));
  DeviceBuffer<int32_t> d_mask(mask);
  for (DeviceBuffer<float>* b : {&d_out, &d_out_again, &d_lse, &d_lse_again, &d_scratch}) {
    b->Poison();
  }
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = fused_attention_forward_bf16(d_out.get(), d_lse.get(), d_qkv.get(),
                                                   d_mask.get(), s, dropout);
    ASSERT_TRUE(st.ok()) << st.error;
    st = fused_attention_forward_bf16(d_out_again.get(), d_lse_again.get(), d_qkv.get(),
                                      d_mask.get(), s, dropout);
    ASSERT_TRUE(st.ok()) << st.error;
    st = fused_attention_backward_bf16(d_dqkv.get(), d_dout.get(), d_qkv.get(), d_out.get(),
                                       d_lse.get(), d_mask.get(), s, dropout, d_scratch.get());
    ASSERT_TRUE(st.ok()) << st.error;
    d_scratch.Poison();
    st = fused_attention_backward_bf16(d_dqkv_again.get(), d_dout.get(), d_qkv.get(), d_out.get(),
                                       d_lse.get(), d_mask.get(), s, dropout, d_scratch.get());
    ASSERT_TRUE(st.ok()) << st.error;
  });
  const std::vector<float> out = d_out.Download(), lse = d_lse.Download(),
                           dqkv = d_dqkv.Download();
  EXPECT_EQ(d_out_again.Download(), out) << "forward is not deterministic";
  EXPECT_EQ(d_lse_again.Download(), lse) << "forward's lse is not deterministic";
  EXPECT_EQ(d_dqkv_again.Download(), dqkv) << "backward is not deterministic";

  EXPECT_EQ(CompareScaled(out, want_out, kWorstLimit), "") << "out vs cpu";
  EXPECT_EQ(CompareScaled(dqkv, want_dqkv, kWorstLimit), "") << "dqkv vs cpu";
  EXPECT_LE(RelativeRmsError(out, want_out), kRmsLimit) << "out vs cpu";
  EXPECT_LE(RelativeRmsError(dqkv, want_dqkv), kRmsLimit) << "dqkv vs cpu";

  EXPECT_EQ(CompareScaled(out, emulated_out, kEmulationWorstLimit), "") << "out vs emulation";
  EXPECT_EQ(CompareScaled(dqkv, emulated_dqkv, kEmulationWorstLimit), "") << "dqkv vs emulation";
  EXPECT_LE(RelativeRmsError(out, emulated_out), kEmulationRmsLimit) << "out vs emulation";
  EXPECT_LE(RelativeRmsError(dqkv, emulated_dqkv), kEmulationRmsLimit) << "dqkv vs emulation";
  EXPECT_EQ(testing::CompareLse(lse, emulated_lse, kLseLimit), "");

  // The fp32 fused kernels on the same data.
  DeviceBuffer<float> f_out(dout.size()), f_lse(fused_attention_lse_floats(s)),
      f_dqkv(dqkv_start);
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st =
        fused_attention_forward(f_out.get(), f_lse.get(), d_qkv.get(), d_mask.get(), s, dropout);
    ASSERT_TRUE(st.ok()) << st.error;
    st = fused_attention_backward(f_dqkv.get(), d_dout.get(), d_qkv.get(), f_out.get(),
                                  f_lse.get(), d_mask.get(), s, dropout, d_scratch.get());
    ASSERT_TRUE(st.ok()) << st.error;
  });
  const std::vector<float> fp32_out = f_out.Download(), fp32_dqkv = f_dqkv.Download();
  EXPECT_EQ(CompareScaled(out, fp32_out, kWorstLimit), "") << "out vs fp32 fused";
  EXPECT_EQ(CompareScaled(dqkv, fp32_dqkv, kWorstLimit), "") << "dqkv vs fp32 fused";
  EXPECT_LE(RelativeRmsError(out, fp32_out), kRmsLimit) << "out vs fp32 fused";
}

INSTANTIATE_TEST_SUITE_P(Cases, FusedAttentionTcCudaTest,
                         ::testing::ValuesIn(testing::FusedTcCases()),
                         [](const ::testing::TestParamInfo<FusedCase>& info) {
                           return testing::FusedCaseName(info.param);
                         });

// A head dim without a specialisation is refused with the reason, and nothing is written.
TEST(FusedAttentionTcCuda, RefusesOtherHeadDims) {
  CLOZE_SKIP_WITHOUT_GPU();
  const AttentionShape s{1, 4, 64, 2};  // D = 32
  DeviceBuffer<float> out(4 * 64), lse(2 * 4), qkv(std::vector<float>(4 * 3 * 64, 1.0f));
  DeviceBuffer<int32_t> mask(std::vector<int32_t>(4, 1));
  out.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st =
        fused_attention_forward_bf16(out.get(), lse.get(), qkv.get(), mask.get(), s, {});
    EXPECT_NE(st.error.find("D = 32"), std::string::npos) << st.error;
  });
  for (float x : out.Download()) ASSERT_TRUE(std::isnan(x));
}

}  // namespace
}  // namespace cloze::cuda
