// attention_bf16.h against the unfused fp32 ops it replaces: the wide softmax and its gradient
// against masked_softmax_forward/backward (fast_math.h's exp: relative error ~1e-6), and the
// whole bf16 attention (through attention_forward/backward at kBf16) against the plain-loop
// reference within bf16 rounding (relative RMS error 1e-2, as the GPU bf16 path's limits),
// with padded keys and with dropout on the probabilities.
#include "kernels/cpu/attention_bf16.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cuda/testing/compare.h"

namespace cloze::cpu {
namespace {

using cuda::testing::Uniform;
using cuda::testing::RelativeRmsError;

TEST(AttentionBf16, WideSoftmaxMatchesTheLoops) {
  // The wide passes are AVX-512 code, called only where CpuHasBf16 (attention_bf16.h).
  if (!CpuHasBf16()) GTEST_SKIP() << "this CPU has no AVX512-BF16: the wide softmax never runs here";
  const int64_t rows = 9, t = 37;  // t not a multiple of 16: the vector tails
  const std::vector<float> scores = Uniform(rows * t, 1, -8.0f, 8.0f), dprobs = Uniform(rows * t, 2);
  std::vector<int32_t> mask(t, 1);
  for (int64_t j = 30; j < t; ++j) mask[j] = 0;
  std::vector<float> want(rows * t), got(rows * t, std::nanf(""));
  masked_softmax_forward(want.data(), scores.data(), mask.data(), rows, t);
  masked_softmax_forward_wide(got.data(), scores.data(), mask.data(), rows, t);
  for (int64_t i = 0; i < rows * t; ++i) ASSERT_NEAR(got[i], want[i], 1e-6f * want[i] + 1e-12f) << "probs at " << i;

  std::vector<float> want_ds(rows * t, 0.0f), got_ds(rows * t, std::nanf(""));
  masked_softmax_backward(want_ds.data(), dprobs.data(), want.data(), rows, t);
  masked_softmax_backward_wide(got_ds.data(), dprobs.data(), want.data(), rows, t);
  for (int64_t i = 0; i < rows * t; ++i) ASSERT_NEAR(got_ds[i], want_ds[i], 1e-6f) << "dscores at " << i;

  // No real key: all zeros, as the loops.
  const std::vector<int32_t> none(t, 0);
  masked_softmax_forward_wide(got.data(), scores.data(), none.data(), rows, t);
  for (float p : got) ASSERT_EQ(p, 0.0f);
}

class AttentionBf16Test : public testing::TestWithParam<float> {};  // dropout probability

TEST_P(AttentionBf16Test, ForwardAndBackwardMatchTheFp32Reference) {
  const AttentionShape shape{3, 20, 48, 4};
  const int64_t n = shape.batch * shape.seq;
  const std::vector<float> qkv = Uniform(n * 3 * shape.hidden, 3), dout = Uniform(n * shape.hidden, 4);
  std::vector<int32_t> mask(n, 1);
  for (int64_t j = 15; j < shape.seq; ++j) mask[shape.seq + j] = 0;  // example 1 is padded
  const DropoutSpec dropout{GetParam(), 7, 3, 0};
  const int64_t probs_size = shape.batch * shape.heads * shape.seq * shape.seq;

  std::vector<float> want_out(n * shape.hidden), want_probs(probs_size), want_dqkv = Uniform(n * 3 * shape.hidden, 5);
  std::vector<float> got_out(want_out.size()), got_probs(probs_size), got_dqkv = want_dqkv;
  attention_forward_reference(want_out.data(), want_probs.data(), qkv.data(), mask.data(), shape, dropout);
  attention_backward_reference(want_dqkv.data(), dout.data(), qkv.data(), want_probs.data(), shape, dropout);
  attention_forward(got_out.data(), got_probs.data(), qkv.data(), mask.data(), shape, dropout, Precision::kBf16);
  attention_backward(got_dqkv.data(), dout.data(), qkv.data(), got_probs.data(), shape, dropout, Precision::kBf16);

  EXPECT_LT(RelativeRmsError(got_out, want_out), 1e-2);
  EXPECT_LT(RelativeRmsError(got_probs, want_probs), 1e-2);
  EXPECT_LT(RelativeRmsError(got_dqkv, want_dqkv), 1e-2);
  for (int64_t h = 0; h < shape.heads; ++h) {  // padded keys get nothing, in either path
    for (int64_t i = 0; i < shape.seq; ++i) {
      const float* row = got_probs.data() + ((shape.heads + h) * shape.seq + i) * shape.seq;
      for (int64_t j = 15; j < shape.seq; ++j) ASSERT_EQ(row[j], 0.0f);
    }
  }
  if (CpuHasBf16()) {  // the products did round: bf16, not fp32, ran
    EXPECT_GT(RelativeRmsError(got_out, want_out), 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Dropout, AttentionBf16Test, testing::Values(0.0f, 0.25f));

}  // namespace
}  // namespace cloze::cpu
