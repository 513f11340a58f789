#include "kernels/cpu/clip.h"

#include <cmath>
#include <limits>
#include <vector>

#include "gtest/gtest.h"

namespace cloze {
namespace {

TEST(Clip, ScalesToMaxNormAndReturnsThePreClipNorm) {
  std::vector<float> grads = {3.0f, 0.0f, -4.0f};
  const ClipResult clip = ClipGradientsByGlobalNorm(grads, 1.0);
  EXPECT_EQ(clip.norm, 5.0);
  EXPECT_TRUE(clip.finite);
  EXPECT_TRUE(clip.clipped);
  EXPECT_FLOAT_EQ(grads[0], 0.6f);
  EXPECT_EQ(grads[1], 0.0f);
  EXPECT_FLOAT_EQ(grads[2], -0.8f);
  EXPECT_NEAR(GlobalNorm(grads), 1.0, 1e-7);
}

TEST(Clip, LeavesGradientsAtOrBelowMaxNormUntouched) {
  const std::vector<float> original = {0.3f, -0.4f};
  std::vector<float> grads = original;
  ClipResult clip = ClipGradientsByGlobalNorm(grads, 1.0);
  EXPECT_FALSE(clip.clipped);
  EXPECT_NEAR(clip.norm, 0.5, 1e-7);
  EXPECT_EQ(grads, original);
  clip = ClipGradientsByGlobalNorm(grads, clip.norm);  // exactly at the limit
  EXPECT_FALSE(clip.clipped);
  EXPECT_EQ(grads, original);
}

TEST(Clip, ZeroMaxNormOnlyMeasures) {
  std::vector<float> grads = {30.0f, 40.0f};
  const ClipResult clip = ClipGradientsByGlobalNorm(grads, 0.0);
  EXPECT_EQ(clip.norm, 50.0);
  EXPECT_FALSE(clip.clipped);
  EXPECT_EQ(grads, (std::vector<float>{30.0f, 40.0f}));
}

TEST(Clip, EmptyAndZeroGradients) {
  std::vector<float> empty;
  EXPECT_EQ(ClipGradientsByGlobalNorm(empty, 1.0).norm, 0.0);
  std::vector<float> zeros(100000, 0.0f);
  const ClipResult clip = ClipGradientsByGlobalNorm(zeros, 1.0);
  EXPECT_EQ(clip.norm, 0.0);
  EXPECT_TRUE(clip.finite);
  EXPECT_FALSE(clip.clipped);
}

// Squares are summed in double: float gradients whose squares overflow float still
// give a finite norm.
TEST(Clip, LargeGradientsDoNotOverflow) {
  std::vector<float> grads = {3e30f, 4e30f};
  const ClipResult clip = ClipGradientsByGlobalNorm(grads, 1.0);
  EXPECT_TRUE(clip.finite);
  EXPECT_NEAR(clip.norm, 5e30, 5e30 * 1e-7);
  EXPECT_NEAR(GlobalNorm(grads), 1.0, 1e-6);
}

// A NaN or infinite gradient anywhere (here past the first block) is reported and
// nothing is scaled, so the caller can skip the step.
TEST(Clip, NonFiniteGradientsAreReportedNotScaled) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity()}) {
    std::vector<float> grads(100000, 2.0f);
    grads[70001] = bad;
    const std::vector<float> original = grads;
    const ClipResult clip = ClipGradientsByGlobalNorm(grads, 1.0);
    EXPECT_FALSE(clip.finite) << bad;
    EXPECT_FALSE(std::isfinite(clip.norm)) << bad;
    EXPECT_FALSE(clip.clipped);
    for (size_t i = 0; i < grads.size(); ++i) {
      if (i != 70001) ASSERT_EQ(grads[i], original[i]) << i;
    }
  }
}

TEST(Clip, NormOfAManyBlockBufferMatchesALongDoubleSum) {
  std::vector<float> values(250001);
  long double reference = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    values[i] = static_cast<float>(std::sin(0.001 * i) * (1 + i % 7));
    reference += static_cast<long double>(values[i]) * values[i];
  }
  EXPECT_NEAR(GlobalNorm(values), std::sqrt(static_cast<double>(reference)),
              1e-12 * std::sqrt(static_cast<double>(reference)));
}

}  // namespace
}  // namespace cloze
