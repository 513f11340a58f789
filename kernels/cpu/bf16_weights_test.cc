// The packed-weight products (Bf16Weights) against a double product of the bf16-rounded
// operands, within fp32 accumulation error; packing happens once per weight and role until
// Clear(), after which changed weights are seen.
#include "kernels/cpu/bf16_weights.h"

#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cuda/testing/compare.h"

namespace cloze::cpu {
namespace {

using cuda::testing::Uniform;

// out (n, oc) = inp · weightᵀ + bias, in double from the bf16-rounded operands, and the sum of
// the terms' magnitudes (the scale of the accumulation error).
void RoundedForward(std::vector<double>& out, std::vector<double>& magnitude, const std::vector<float>& inp,
                    const std::vector<float>& weight, const float* bias, int64_t n, int64_t c, int64_t oc) {
  out.assign(n * oc, 0.0);
  magnitude.assign(n * oc, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t o = 0; o < oc; ++o) {
      double sum = bias != nullptr ? bias[o] : 0.0, mag = bias != nullptr ? std::abs(bias[o]) : 0.0;
      for (int64_t x = 0; x < c; ++x) {
        const double term = double{AsBf16ProductOperand(inp[i * c + x])} * AsBf16ProductOperand(weight[o * c + x]);
        sum += term;
        mag += std::abs(term);
      }
      out[i * oc + o] = sum;
      magnitude[i * oc + o] = mag;
    }
  }
}

struct Shape {
  int64_t n, c, oc;
};

class Bf16WeightsTest : public testing::TestWithParam<Shape> {};

TEST_P(Bf16WeightsTest, ForwardWithAndWithoutBiasMatchesRoundedProduct) {
  const auto [n, c, oc] = GetParam();
  const std::vector<float> inp = Uniform(n * c, 1), weight = Uniform(oc * c, 2), bias = Uniform(oc, 3);
  Bf16Weights packed;
  for (const float* b : {bias.data(), static_cast<const float*>(nullptr)}) {
    std::vector<float> out(n * oc, std::nanf(""));
    packed.Forward(out.data(), inp.data(), weight.data(), b, n, c, oc);
    std::vector<double> want, magnitude;
    RoundedForward(want, magnitude, inp, weight, b, n, c, oc);
    for (int64_t i = 0; i < n * oc; ++i) {
      ASSERT_NEAR(out[i], want[i], 1e-6 * (c + 2) * magnitude[i] + 1e-7) << "bias " << (b != nullptr) << " at " << i;
    }
  }
}

TEST_P(Bf16WeightsTest, BackwardInputAccumulatesTheRoundedProduct) {
  const auto [n, c, oc] = GetParam();
  const std::vector<float> dout = Uniform(n * oc, 4), weight = Uniform(oc * c, 5), start = Uniform(n * c, 6);
  std::vector<float> dinp = start;
  Bf16Weights packed;
  packed.BackwardInput(dinp.data(), dout.data(), weight.data(), n, c, oc);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t x = 0; x < c; ++x) {
      double sum = start[i * c + x], mag = std::abs(start[i * c + x]);
      for (int64_t o = 0; o < oc; ++o) {
        const double term = double{AsBf16ProductOperand(dout[i * oc + o])} * AsBf16ProductOperand(weight[o * c + x]);
        sum += term;
        mag += std::abs(term);
      }
      ASSERT_NEAR(dinp[i * c + x], sum, 1e-6 * (oc + 2) * mag + 1e-7) << "at (" << i << ", " << x << ")";
    }
  }
}

// Backward against the separate products it replaces: gemm_bf16 for the input and weight
// gradients (the same bf16 operands, so the same sums up to the order of fp32 accumulation)
// and bias_backward (bit for bit), with and without the input's copy from Forward.
TEST_P(Bf16WeightsTest, BackwardMatchesTheSeparateProducts) {
  const auto [n, c, oc] = GetParam();
  const std::vector<float> inp = Uniform(n * c, 10), weight = Uniform(oc * c, 11), dout = Uniform(n * oc, 12);
  const std::vector<float> dinp0 = Uniform(n * c, 13), dweight0 = Uniform(oc * c, 14), dbias0 = Uniform(oc, 15);
  std::vector<float> want_dinp = dinp0, want_dweight = dweight0, want_dbias = dbias0;
  gemm_bf16(false, false, n, c, oc, 1.0f, dout.data(), oc, weight.data(), c, 1.0f, want_dinp.data(), c);
  gemm_bf16(true, false, oc, c, n, 1.0f, dout.data(), oc, inp.data(), c, 1.0f, want_dweight.data(), c);
  bias_backward(want_dbias.data(), dout.data(), n, oc);
  for (bool after_forward : {false, true}) {
    Bf16Weights packed;
    std::vector<float> out(n * oc);
    if (after_forward) packed.Forward(out.data(), inp.data(), weight.data(), nullptr, n, c, oc);
    std::vector<float> dinp = dinp0, dweight = dweight0, dbias = dbias0;
    packed.Backward(dinp.data(), dweight.data(), dbias.data(), dout.data(), inp.data(), weight.data(), n, c, oc);
    EXPECT_EQ(dbias, want_dbias) << "after forward " << after_forward;
    for (int64_t i = 0; i < n * c; ++i) {
      ASSERT_NEAR(dinp[i], want_dinp[i], 1e-5 * (oc + 2)) << "dinp at " << i << ", after forward " << after_forward;
    }
    for (int64_t i = 0; i < oc * c; ++i) {
      ASSERT_NEAR(dweight[i], want_dweight[i], 1e-5 * (n + 2)) << "dweight at " << i;
    }
    // Each gradient may be left out.
    std::vector<float> only_bias = dbias0;
    packed.Backward(nullptr, nullptr, only_bias.data(), dout.data(), inp.data(), weight.data(), n, c, oc);
    EXPECT_EQ(only_bias, want_dbias);
    std::vector<float> only_dweight = dweight0;
    packed.Backward(nullptr, only_dweight.data(), nullptr, dout.data(), inp.data(), weight.data(), n, c, oc);
    for (int64_t i = 0; i < oc * c; ++i) ASSERT_NEAR(only_dweight[i], want_dweight[i], 1e-5 * (n + 2));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, Bf16WeightsTest,
                         testing::Values(Shape{1, 1, 1}, Shape{7, 33, 65}, Shape{64, 96, 288}, Shape{128, 768, 64},
                                         Shape{30, 257, 3}));

TEST(Bf16Weights, PacksOncePerWeightAndRoleUntilClear) {
  const int64_t n = 32, c = 48, oc = 80;
  std::vector<float> inp = Uniform(n * c, 7), weight = Uniform(oc * c, 8), dout = Uniform(n * oc, 9);
  std::vector<float> first(n * oc), again(n * oc), dinp(n * c, 0.0f);
  Bf16Weights packed;
  packed.Forward(first.data(), inp.data(), weight.data(), nullptr, n, c, oc);
  packed.Forward(again.data(), inp.data(), weight.data(), nullptr, n, c, oc);  // a second "layer"
  EXPECT_EQ(again, first);
  packed.BackwardInput(dinp.data(), dout.data(), weight.data(), n, c, oc);
  packed.BackwardInput(dinp.data(), dout.data(), weight.data(), n, c, oc);
  if (CpuHasBf16()) {
    EXPECT_EQ(packed.packs(), 2) << "one forward and one input-gradient layout";
  }

  // The weights change (an optimizer step): without Clear() the old copy is still used,
  // after it the new weights are.
  for (float& w : weight) w *= 2.0f;
  std::vector<float> stale(n * oc), fresh(n * oc);
  packed.Forward(stale.data(), inp.data(), weight.data(), nullptr, n, c, oc);
  packed.Clear();
  packed.Forward(fresh.data(), inp.data(), weight.data(), nullptr, n, c, oc);
  for (int64_t i = 0; i < n * oc; ++i) EXPECT_EQ(fresh[i], 2.0f * first[i]) << "at " << i;  // ×2 is exact in bf16
  if (CpuHasBf16()) {
    EXPECT_EQ(stale, first);
    EXPECT_EQ(packed.packs(), 3);
  }
}

// Backward reuses Forward's copy of the input only until Clear(): an input changed at the
// same address after it is read anew.
TEST(Bf16Weights, BackwardReadsAChangedInputAfterClear) {
  const int64_t n = 32, c = 48, oc = 80;
  std::vector<float> inp = Uniform(n * c, 16), weight = Uniform(oc * c, 17), dout = Uniform(n * oc, 18);
  std::vector<float> out(n * oc), first(oc * c, 0.0f), second(oc * c, 0.0f);
  Bf16Weights packed;
  packed.Forward(out.data(), inp.data(), weight.data(), nullptr, n, c, oc);
  packed.Backward(nullptr, first.data(), nullptr, dout.data(), inp.data(), weight.data(), n, c, oc);
  packed.Clear();
  for (float& x : inp) x *= 2.0f;
  packed.Backward(nullptr, second.data(), nullptr, dout.data(), inp.data(), weight.data(), n, c, oc);
  for (int64_t i = 0; i < oc * c; ++i) EXPECT_EQ(second[i], 2.0f * first[i]) << "at " << i;  // ×2 is exact in bf16
}

}  // namespace
}  // namespace cloze::cpu
