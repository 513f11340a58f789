// The CUDA attention (fp32 and the bf16-operand variant) and masked softmax against their
// CPU twins on fresh random data, with padding and with and without dropout on the
// probabilities. Skips, with the reason, where CUDA code is not built or no usable GPU is
// present. attention_heads_test replays the same batched products on the host, in CI.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/testing/attention_cases.h"
#include "kernels/cuda/testing/cuda_test_support.h"

namespace cloze::cuda {
namespace {

using testing::Added;
using testing::Compare;
using testing::CompareScaled;
using testing::DeviceBuffer;
using testing::Gaussian;
using testing::PaddingMask;
using testing::RelativeRmsError;
using testing::SpecFor;
using testing::UniformInts;

// fp32 limits. probs: a score's GEMM rounding (a few ulp of |s| ≲ 8) moves exp(s − max) by
// that much relatively; 2e-5 relative, floor 1e-6 (probabilities below that may differ in
// absolute terms only). out: a sum of T products of those, 3e-5 of the RMS (as matmul).
// dqkv: two GEMM chains through the softmax backward, whose p·(dp − Σ dp·p) cancels;
// 1e-4 of the RMS, still 100x below what a transposed operand or wrong scale gives.
constexpr double kProbsLimit = 2e-5;
constexpr double kOutLimit = 3e-5;
constexpr double kGradLimit = 1e-4;

struct Case {
  AttentionShape shape;
  float dropout;
};

// Odd sequence lengths and head counts; BERT-base's heads at seq 128; batches up to 8,
// so every kind of padding (testing::PaddingMask: full, padded tail, all padding, one real
// token) occurs, and T not a multiple of 8.
const Case kCases[] = {{{1, 1, 4, 2}, 0.0f},     {{2, 7, 12, 3}, 0.0f},  {{2, 7, 12, 3}, 0.1f},
                       {{2, 128, 768, 12}, 0.1f}, {{3, 33, 64, 4}, 0.0f}, {{3, 33, 64, 4}, 0.5f},
                       {{8, 13, 32, 4}, 0.0f},    {{8, 13, 32, 4}, 0.1f}, {{5, 61, 96, 6}, 0.1f}};

// One forward or backward, fp32 or bf16, on fresh random data (seeded by `seed` and the
// shape) with the case's padding mask, beside the CPU's on the same data.
struct ForwardResults {
  std::vector<float> want_out, want_probs, out, probs;
};
struct BackwardResults {
  std::vector<float> prior, want, got;  // dqkv: the random prior, and it plus each's gradient
};

class AttentionCudaTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
    CLOZE_SKIP_WITHOUT_GPU();
    DeviceStatus s = BlasContext::Create(&context_);
    ASSERT_TRUE(s.ok()) << s.error;
  }

  // Outputs and scratch start poisoned.
  void RunForward(bool bf16, uint64_t seed, ForwardResults* r) {
    const auto [s, p] = GetParam();
    const DropoutSpec dropout = SpecFor(p);
    std::mt19937_64 rng(seed + s.batch * s.seq * s.hidden);
    const std::vector<float> qkv = Gaussian(rng, s.batch * s.seq * 3 * s.hidden);
    const std::vector<int32_t> mask = PaddingMask(s);
    const int64_t n_probs = s.batch * s.heads * s.seq * s.seq;
    r->want_out.resize(s.batch * s.seq * s.hidden);
    r->want_probs.resize(n_probs);
    cpu::attention_forward(r->want_out.data(), r->want_probs.data(), qkv.data(), mask.data(), s,
                           dropout);

    DeviceBuffer<float> d_qkv(qkv), d_out(r->want_out.size()), d_probs(n_probs),
        d_scratch(bf16 ? attention_bf16_scratch_floats(s) : attention_scratch_floats(s));
    DeviceBuffer<int32_t> d_mask(mask);
    d_out.Poison();
    d_probs.Poison();
    d_scratch.Poison();
    CLOZE_IF_CUDA_BUILT({
      DeviceStatus st = (bf16 ? attention_forward_bf16 : attention_forward)(
          *context_, d_out.get(), d_probs.get(), d_qkv.get(), d_mask.get(), s, dropout,
          d_scratch.get());
      ASSERT_TRUE(st.ok()) << st.error;
    });
    r->probs = d_probs.Download();
    r->out = d_out.Download();
  }

  // Backward ADDS into dqkv: both sides start from the same random prior. It runs from the
  // CPU's probabilities, and the scratch starts poisoned (the op must not read what it did
  // not write).
  void RunBackward(bool bf16, uint64_t seed, BackwardResults* r) {
    const auto [s, p] = GetParam();
    const DropoutSpec dropout = SpecFor(p);
    std::mt19937_64 rng(seed + s.batch * s.seq * s.hidden);
    const std::vector<float> qkv = Gaussian(rng, s.batch * s.seq * 3 * s.hidden);
    const std::vector<float> dout = Gaussian(rng, s.batch * s.seq * s.hidden);
    const std::vector<int32_t> mask = PaddingMask(s);
    std::vector<float> out(dout.size()), probs(s.batch * s.heads * s.seq * s.seq);
    cpu::attention_forward(out.data(), probs.data(), qkv.data(), mask.data(), s, dropout);
    r->prior = Gaussian(rng, qkv.size());
    r->want = r->prior;
    cpu::attention_backward(r->want.data(), dout.data(), qkv.data(), probs.data(), s, dropout);

    DeviceBuffer<float> d_qkv(qkv), d_dout(dout), d_probs(probs), d_dqkv(r->prior),
        d_scratch(bf16 ? attention_bf16_scratch_floats(s) : attention_scratch_floats(s));
    d_scratch.Poison();
    CLOZE_IF_CUDA_BUILT({
      DeviceStatus st = (bf16 ? attention_backward_bf16 : attention_backward)(
          *context_, d_dqkv.get(), d_dout.get(), d_qkv.get(), d_probs.get(), s, dropout,
          d_scratch.get());
      ASSERT_TRUE(st.ok()) << st.error;
    });
    r->got = d_dqkv.Download();
  }

  std::unique_ptr<BlasContext> context_;
};

TEST_P(AttentionCudaTest, ForwardMatchesCpu) {
  ForwardResults r;
  ASSERT_NO_FATAL_FAILURE(RunForward(/*bf16=*/false, 1900, &r));
  EXPECT_EQ(Compare(r.probs, r.want_probs, kProbsLimit, 1e-6), "") << "probs";
  EXPECT_EQ(CompareScaled(r.out, r.want_out, kOutLimit), "") << "out";
}

TEST_P(AttentionCudaTest, BackwardAccumulatesLikeCpu) {
  BackwardResults r;
  ASSERT_NO_FATAL_FAILURE(RunBackward(/*bf16=*/false, 2000, &r));
  EXPECT_EQ(CompareScaled(r.got, r.want, kGradLimit), "");
}

// The bf16-operand variant against the CPU's fp32, within its own limits
// (testing/attention_cases.h): the whole tensor's relative RMS error, and the worst element
// against the RMS.
TEST_P(AttentionCudaTest, Bf16ForwardMatchesCpuWithinBf16Limits) {
  ForwardResults r;
  ASSERT_NO_FATAL_FAILURE(RunForward(/*bf16=*/true, 2200, &r));
  EXPECT_LE(RelativeRmsError(r.probs, r.want_probs), testing::kBf16RmsLimit) << "probs";
  EXPECT_LE(RelativeRmsError(r.out, r.want_out), testing::kBf16RmsLimit) << "out";
  EXPECT_EQ(CompareScaled(r.probs, r.want_probs, testing::kBf16ElementLimit), "") << "probs";
  EXPECT_EQ(CompareScaled(r.out, r.want_out, testing::kBf16ElementLimit), "") << "out";
}

// The gradient is what the op added to the random prior, compared alone so the prior does
// not dilute the limit.
TEST_P(AttentionCudaTest, Bf16BackwardAccumulatesWithinBf16Limits) {
  BackwardResults r;
  ASSERT_NO_FATAL_FAILURE(RunBackward(/*bf16=*/true, 2300, &r));
  const std::vector<float> got_grad = Added(r.got, r.prior), want_grad = Added(r.want, r.prior);
  EXPECT_LE(RelativeRmsError(got_grad, want_grad), testing::kBf16RmsLimit);
  EXPECT_EQ(CompareScaled(got_grad, want_grad, testing::kBf16ElementLimit), "");
}

INSTANTIATE_TEST_SUITE_P(Cases, AttentionCudaTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           const AttentionShape& s = info.param.shape;
                           return "b" + std::to_string(s.batch) + "_t" + std::to_string(s.seq) +
                                  "_c" + std::to_string(s.hidden) + "_h" +
                                  std::to_string(s.heads) + "_p" +
                                  std::to_string(int(info.param.dropout * 100));
                         });

class MaskedSoftmaxCudaTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

// The standalone twins (one mask for all rows, as the CPU's signature has it).
TEST_P(MaskedSoftmaxCudaTest, ForwardAndBackwardMatchCpu) {
  const int64_t t = GetParam(), rows = 37;
  std::mt19937_64 rng(2100 + t);
  const std::vector<float> scores = Gaussian(rng, rows * t, 3.0f), dprobs = Gaussian(rng, rows * t);
  std::vector<int32_t> mask = UniformInts(rng, t, 0, 1);
  mask[0] = 1;
  std::vector<float> want_probs(rows * t), want_dscores = Gaussian(rng, rows * t);
  const std::vector<float> prior = want_dscores;
  cpu::masked_softmax_forward(want_probs.data(), scores.data(), mask.data(), rows, t);
  cpu::masked_softmax_backward(want_dscores.data(), dprobs.data(), want_probs.data(), rows, t);

  DeviceBuffer<float> d_scores(scores), d_probs(rows * t), d_dprobs(dprobs), d_dscores(prior),
      d_cpu_probs(want_probs);
  DeviceBuffer<int32_t> d_mask(mask);
  d_probs.Poison();
  CLOZE_IF_CUDA_BUILT(masked_softmax_forward(d_probs.get(), d_scores.get(), d_mask.get(), rows, t));
  // Backward from the CPU's probabilities, so it is checked on its own.
  CLOZE_IF_CUDA_BUILT(
      masked_softmax_backward(d_dscores.get(), d_dprobs.get(), d_cpu_probs.get(), rows, t));
  EXPECT_EQ(Compare(d_probs.Download(), want_probs, kProbsLimit, 1e-6), "") << "probs";
  EXPECT_EQ(Compare(d_dscores.Download(), want_dscores, 1e-5, 1.0), "") << "dscores";
}

INSTANTIATE_TEST_SUITE_P(Widths, MaskedSoftmaxCudaTest, ::testing::Values(1, 7, 128, 513));

}  // namespace
}  // namespace cloze::cuda
