// The fused element-wise passes (fused.h) against the separate ops they replace on the bf16
// path: the activation passes within float rounding (they run wider, with FMA), dropout +
// residual + layer norm bit for bit. Odd sizes and mask offsets, dropout on and off.
#include "kernels/cpu/fused.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/residual.h"
#include "kernels/cuda/testing/compare.h"

namespace cloze::cpu {
namespace {

using cuda::testing::Uniform;

constexpr Activation kActivations[] = {Activation::kGeluErf, Activation::kGeluTanh, Activation::kRelu};

TEST(Fused, ActivationForwardMatchesTheSeparateOp) {
  const int64_t n = 3 * 4096 + 77;  // several chunks and a ragged tail
  const std::vector<float> inp = Uniform(n, 1, -6.0f, 6.0f);
  for (Activation act : kActivations) {
    std::vector<float> want(n), got(n);
    activation_forward(act, want.data(), inp.data(), n);
    activation_forward_fused(act, got.data(), inp.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      ASSERT_NEAR(got[i], want[i], 2e-6f * std::abs(want[i]) + 1e-7f) << "activation " << int(act) << " at " << i;
    }
  }
}

TEST(Fused, ActivationBiasBackwardMatchesActivationBackwardThenBiasBackward) {
  const int64_t n = 37, c = 3 * 64 + 13;  // column blocks and a ragged one
  const std::vector<float> inp = Uniform(n * c, 2, -6.0f, 6.0f), dout = Uniform(n * c, 3), start = Uniform(n * c, 4);
  const std::vector<float> bias_start = Uniform(c, 5);
  for (Activation act : kActivations) {
    std::vector<float> want = start, got = start, want_bias = bias_start, got_bias = bias_start;
    // The separate ops on the encoder's zeroed scratch: the bias gradient sums d alone.
    std::vector<float> d(n * c, 0.0f);
    activation_backward(act, d.data(), inp.data(), dout.data(), n * c);
    accumulate(want.data(), d.data(), n * c);
    bias_backward(want_bias.data(), d.data(), n, c);
    activation_bias_backward(act, got.data(), got_bias.data(), inp.data(), dout.data(), n, c);
    for (int64_t i = 0; i < n * c; ++i) {
      ASSERT_NEAR(got[i], want[i], 1e-5f * (std::abs(d[i]) + std::abs(start[i])) + 1e-7f)
          << "activation " << int(act) << " at " << i;
    }
    for (int64_t j = 0; j < c; ++j) {
      double magnitude = std::abs(bias_start[j]);
      for (int64_t row = 0; row < n; ++row) magnitude += std::abs(d[row * c + j]);
      ASSERT_NEAR(got_bias[j], want_bias[j], 1e-5 * magnitude) << "activation " << int(act) << " column " << j;
    }
  }
}

struct NormCase {
  float p;
  uint64_t first_index;
};

class FusedNormTest : public testing::TestWithParam<NormCase> {};

TEST_P(FusedNormTest, ForwardEqualsDropoutResidualLayernormBitForBit) {
  const int64_t n = 23, c = 101;
  const DropoutSpec dropout{.p = GetParam().p, .seed = 9, .stream = 4, .first_index = GetParam().first_index};
  const std::vector<float> dense = Uniform(n * c, 6), residual = Uniform(n * c, 7);
  const std::vector<float> weight = Uniform(c, 8, 0.5f, 1.5f), bias = Uniform(c, 9);
  std::vector<float> want_sum = dense, want_out(n * c), want_mean(n), want_rstd(n);
  dropout_forward(want_sum.data(), want_sum.data(), n * c, dropout);
  residual_forward(want_sum.data(), want_sum.data(), residual.data(), n * c);
  layernorm_forward(want_out.data(), want_mean.data(), want_rstd.data(), want_sum.data(), weight.data(), bias.data(),
                    n, c, 1e-12f);
  // x aliases sum, as in the encoder (the dense output is overwritten by the sum).
  std::vector<float> sum = dense, out(n * c), mean(n), rstd(n);
  dropout_residual_layernorm_forward(out.data(), mean.data(), rstd.data(), sum.data(), sum.data(), residual.data(),
                                     weight.data(), bias.data(), n, c, 1e-12f, dropout);
  EXPECT_EQ(sum, want_sum);
  EXPECT_EQ(out, want_out);
  EXPECT_EQ(mean, want_mean);
  EXPECT_EQ(rstd, want_rstd);
}

TEST_P(FusedNormTest, BackwardEqualsLayernormAccumulateDropoutBitForBit) {
  const int64_t n = 23, c = 101;
  const DropoutSpec dropout{.p = GetParam().p, .seed = 11, .stream = 2, .first_index = GetParam().first_index};
  const std::vector<float> sum = Uniform(n * c, 10), dout = Uniform(n * c, 11), weight = Uniform(c, 12, 0.5f, 1.5f);
  std::vector<float> mean(n), rstd(n), normed(n * c);
  const std::vector<float> zeros(c, 0.0f);
  layernorm_forward(normed.data(), mean.data(), rstd.data(), sum.data(), weight.data(), zeros.data(), n, c, 1e-12f);
  const std::vector<float> d_x_start = Uniform(n * c, 13), d_residual_start = Uniform(n * c, 14);
  const std::vector<float> dweight_start = Uniform(c, 15), dbias_start = Uniform(c, 16);

  std::vector<float> want_x = d_x_start, want_residual = d_residual_start, want_dweight = dweight_start,
                     want_dbias = dbias_start, d_sum(n * c, 0.0f);
  layernorm_backward(d_sum.data(), want_dweight.data(), want_dbias.data(), dout.data(), sum.data(), weight.data(),
                     mean.data(), rstd.data(), n, c);
  accumulate(want_residual.data(), d_sum.data(), n * c);
  dropout_backward(want_x.data(), d_sum.data(), n * c, dropout);

  std::vector<float> d_x = d_x_start, d_residual = d_residual_start, dweight = dweight_start, dbias = dbias_start;
  dropout_residual_layernorm_backward(d_x.data(), d_residual.data(), dweight.data(), dbias.data(), dout.data(),
                                      sum.data(), weight.data(), mean.data(), rstd.data(), n, c, dropout);
  EXPECT_EQ(d_x, want_x);
  EXPECT_EQ(d_residual, want_residual);
  EXPECT_EQ(dweight, want_dweight);
  EXPECT_EQ(dbias, want_dbias);
}

INSTANTIATE_TEST_SUITE_P(Dropout, FusedNormTest,
                         testing::Values(NormCase{0.0f, 0}, NormCase{0.1f, 0}, NormCase{0.3f, 6}, NormCase{0.1f, 2323}));

}  // namespace
}  // namespace cloze::cpu
