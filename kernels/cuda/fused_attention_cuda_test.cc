// The fused attention kernels on the GPU against the CPU twin (cpu::attention_*), the
// unfused CUDA attention (attention.h) and the kernels' host emulation, on the cases the
// emulation test runs (testing/fused_attention_cases.h), with NaN-poisoned outputs and
// scratch. Skips, with the reason, where CUDA code is not built or no usable GPU is present.
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/testing/cuda_test_support.h"
#include "kernels/cuda/testing/fused_attention_cases.h"
#include "kernels/cuda/testing/fused_attention_emulation.h"

namespace cloze::cuda {
namespace {

using testing::CompareScaled;
using testing::DeviceBuffer;
using testing::FusedCase;
using testing::Gaussian;

// fp32 limits relative to the tensor's RMS: the host emulation of these kernels meets the
// CPU's float ops within 2.5e-6 (out) and 1e-6 (dqkv); the GPU adds expf's and FMA
// contraction's few ulp. lse is compared with the emulation's, relative to 1 + |lse|.
constexpr double kOutLimit = 1e-5;
constexpr double kGradLimit = 2e-5;
constexpr double kLseLimit = 1e-5;

class FusedAttentionCudaTest : public ::testing::TestWithParam<FusedCase> {
 protected:
  void SetUp() override {
    CLOZE_SKIP_WITHOUT_GPU();
    DeviceStatus s = BlasContext::Create(&context_);
    ASSERT_TRUE(s.ok()) << s.error;
  }
  std::unique_ptr<BlasContext> context_;
};

TEST_P(FusedAttentionCudaTest, ForwardAndBackwardMatchCpuAndUnfusedCuda) {
  const FusedCase& c = GetParam();
  const AttentionShape& s = c.shape;
  const DropoutSpec dropout = testing::FusedCaseDropout(c);
  std::mt19937_64 rng(8000 + s.seq * 10 + s.heads + (c.padded_sequence ? 1 : 0));
  const std::vector<float> qkv = Gaussian(rng, s.batch * s.seq * 3 * s.hidden);
  const std::vector<float> dout = Gaussian(rng, s.batch * s.seq * s.hidden);
  const std::vector<float> dqkv_start = Gaussian(rng, qkv.size());
  const std::vector<int32_t> mask = testing::FusedCaseMask(c, rng);
  const int64_t n_probs = s.batch * s.heads * s.seq * s.seq;

  // The CPU twin, and the host emulation's lse.
  std::vector<float> want_out(dout.size()), probs(n_probs), want_dqkv = dqkv_start;
  cpu::attention_forward(want_out.data(), probs.data(), qkv.data(), mask.data(), s, dropout);
  cpu::attention_backward(want_dqkv.data(), dout.data(), qkv.data(), probs.data(), s, dropout);
  std::vector<float> emulated_out(dout.size()), want_lse(fused_attention_lse_floats(s));
  testing::emulate_forward_any(emulated_out.data(), want_lse.data(), qkv.data(), mask.data(), s,
                               dropout);

  DeviceBuffer<float> d_qkv(qkv), d_dout(dout), d_out(dout.size()),
      d_lse(fused_attention_lse_floats(s)), d_dqkv(dqkv_start), d_again(dqkv_start),
      d_scratch(fused_attention_backward_scratch_floats(s));
  DeviceBuffer<int32_t> d_mask(mask);
  d_out.Poison();
  d_lse.Poison();
  d_scratch.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = fused_attention_forward(d_out.get(), d_lse.get(), d_qkv.get(), d_mask.get(),
                                              s, dropout);
    ASSERT_TRUE(st.ok()) << st.error;
    st = fused_attention_backward(d_dqkv.get(), d_dout.get(), d_qkv.get(), d_out.get(),
                                  d_lse.get(), d_mask.get(), s, dropout, d_scratch.get());
    ASSERT_TRUE(st.ok()) << st.error;
    d_scratch.Poison();
    st = fused_attention_backward(d_again.get(), d_dout.get(), d_qkv.get(), d_out.get(),
                                  d_lse.get(), d_mask.get(), s, dropout, d_scratch.get());
    ASSERT_TRUE(st.ok()) << st.error;
  });
  const std::vector<float> out = d_out.Download(), dqkv = d_dqkv.Download();
  EXPECT_EQ(CompareScaled(out, want_out, kOutLimit), "") << "out vs cpu";
  EXPECT_EQ(testing::CompareLse(d_lse.Download(), want_lse, kLseLimit), "");
  EXPECT_EQ(CompareScaled(dqkv, want_dqkv, kGradLimit), "") << "dqkv vs cpu";
  EXPECT_EQ(d_again.Download(), dqkv) << "backward is not deterministic";

  // The unfused CUDA attention on the same data.
  DeviceBuffer<float> u_out(dout.size()), u_probs(n_probs), u_dqkv(dqkv_start),
      u_scratch(attention_scratch_floats(s));
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = attention_forward(*context_, u_out.get(), u_probs.get(), d_qkv.get(),
                                        d_mask.get(), s, dropout, u_scratch.get());
    ASSERT_TRUE(st.ok()) << st.error;
    st = attention_backward(*context_, u_dqkv.get(), d_dout.get(), d_qkv.get(), u_probs.get(), s,
                            dropout, u_scratch.get());
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(CompareScaled(out, u_out.Download(), 2 * kOutLimit), "") << "out vs unfused cuda";
  EXPECT_EQ(CompareScaled(dqkv, u_dqkv.Download(), 2 * kGradLimit), "") << "dqkv vs unfused cuda";
}

INSTANTIATE_TEST_SUITE_P(Cases, FusedAttentionCudaTest, ::testing::ValuesIn(testing::FusedCases()),
                         [](const ::testing::TestParamInfo<FusedCase>& info) {
                           return testing::FusedCaseName(info.param);
                         });

// A head dim without a specialisation is refused with the reason, and nothing is written.
TEST(FusedAttentionCuda, RefusesOtherHeadDims) {
  CLOZE_SKIP_WITHOUT_GPU();
  const AttentionShape s{1, 4, 64, 2};  // D = 32
  DeviceBuffer<float> out(4 * 64), lse(2 * 4), qkv(std::vector<float>(4 * 3 * 64, 1.0f));
  DeviceBuffer<int32_t> mask(std::vector<int32_t>(4, 1));
  out.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = fused_attention_forward(out.get(), lse.get(), qkv.get(), mask.get(), s, {});
    EXPECT_NE(st.error.find("D = 32"), std::string::npos) << st.error;
  });
  for (float x : out.Download()) ASSERT_TRUE(std::isnan(x));
}

}  // namespace
}  // namespace cloze::cuda
