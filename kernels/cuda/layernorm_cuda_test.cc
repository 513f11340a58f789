// The CUDA layer norm against its CPU twin (kernels/cpu, the oracle) on fresh random data.
// Skips, with the reason, where CUDA code is not built or no usable GPU is present.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/testing/cuda_test_support.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::CompareScaled;
using testing::DeviceBuffer;
using testing::Gaussian;

// fp32 limits. Forward: out, mean and rstd are sums of c terms taken in a tree on the GPU
// and in sequence on the CPU; for c ≤ 1029 of O(1) values that differs by well under 1e-6
// of the result, so 1e-5 (floor 1: outputs are O(1)) leaves 10x room while a wrong term
// (eps inside the root, a missing bias) errs by 1e-3 or more. Backward: dinp likewise;
// dweight and dbias sum rows in the CPU's order, differing only by FMA contraction, and are
// held to 1e-5 of their RMS.
constexpr double kForwardLimit = 1e-5;
constexpr double kBackwardLimit = 1e-5;

// The comparison every CUDA op test relies on, checked where no GPU is present too, so a
// broken checker cannot hide behind skips.
TEST(CompareTest, CatchesDriftAndPoison) {
  const std::vector<float> want = {0.f, 1.f, -2.f};
  EXPECT_EQ(Compare(want, want, 0.0, 1.0), "");
  EXPECT_NE(Compare({0.f, 1.0001f, -2.f}, want, 1e-5, 1.0), "");
  EXPECT_NE(Compare({0.f, NAN, -2.f}, want, 1e-5, 1.0), "");
  EXPECT_NE(Compare({NAN, NAN, NAN}, {NAN, NAN, NAN}, 1e-5, 1.0), "");
  EXPECT_NE(Compare({0.f, 1.f}, want, 1e-5, 1.0), "");
  // Scaled: an absolute error of 1e-3 on an element near zero of a tensor of RMS ~1.3.
  EXPECT_EQ(CompareScaled({1e-3f, 1.f, -2.f}, want, 1e-3), "");
  EXPECT_NE(CompareScaled({1e-2f, 1.f, -2.f}, want, 1e-3), "");
}

struct Shape {
  int64_t n, c;
};

// Odd widths leave partial warps; c = 1029 exceeds the block, so threads stride; n = 70001
// exceeds the row grid's cap, so blocks take a second row.
const Shape kShapes[] = {{7, 33}, {512, 768}, {3, 1029}, {70001, 5}};

class LayernormCudaTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

TEST_P(LayernormCudaTest, ForwardMatchesCpu) {
  const auto [n, c] = GetParam();
  std::mt19937_64 rng(100 + n * 7 + c);
  // An offset and a scale away from (0, 1), so mean and rstd matter.
  std::vector<float> x = Gaussian(rng, n * c, 2.0f);
  for (float& v : x) v += 0.5f;
  const std::vector<float> w = Gaussian(rng, c), b = Gaussian(rng, c);
  const float eps = 1e-12f;
  std::vector<float> want(n * c), want_mean(n), want_rstd(n);
  cpu::layernorm_forward(want.data(), want_mean.data(), want_rstd.data(), x.data(), w.data(),
                         b.data(), n, c, eps);

  DeviceBuffer<float> d_x(x), d_w(w), d_b(b), d_out(n * c), d_mean(n), d_rstd(n);
  d_out.Poison();
  d_mean.Poison();
  d_rstd.Poison();
  CLOZE_IF_CUDA_BUILT(layernorm_forward(d_out.get(), d_mean.get(), d_rstd.get(), d_x.get(),
                                        d_w.get(), d_b.get(), n, c, eps));
  EXPECT_EQ(Compare(d_out.Download(), want, kForwardLimit, 1.0), "") << "out";
  EXPECT_EQ(Compare(d_mean.Download(), want_mean, kForwardLimit, 1.0), "") << "mean";
  EXPECT_EQ(Compare(d_rstd.Download(), want_rstd, kForwardLimit, 0.0), "") << "rstd";
}

// Backward ADDS: every gradient starts from the same random values on both sides, which
// also stand in for the poison (an element the kernel skips keeps the wrong value).
TEST_P(LayernormCudaTest, BackwardAccumulatesLikeCpu) {
  const auto [n, c] = GetParam();
  std::mt19937_64 rng(200 + n * 7 + c);
  std::vector<float> x = Gaussian(rng, n * c, 2.0f);
  for (float& v : x) v -= 0.25f;
  const std::vector<float> w = Gaussian(rng, c), b = Gaussian(rng, c), dout = Gaussian(rng, n * c);
  std::vector<float> out(n * c), mean(n), rstd(n);
  cpu::layernorm_forward(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), n, c,
                         1e-5f);
  std::vector<float> want_dx = Gaussian(rng, n * c), want_dw = Gaussian(rng, c),
                     want_db = Gaussian(rng, c);
  DeviceBuffer<float> d_x(x), d_w(w), d_dout(dout), d_mean(mean), d_rstd(rstd);
  DeviceBuffer<float> d_dx(want_dx), d_dw(want_dw), d_db(want_db);
  cpu::layernorm_backward(want_dx.data(), want_dw.data(), want_db.data(), dout.data(), x.data(),
                          w.data(), mean.data(), rstd.data(), n, c);

  CLOZE_IF_CUDA_BUILT(layernorm_backward(d_dx.get(), d_dw.get(), d_db.get(), d_dout.get(),
                                         d_x.get(), d_w.get(), d_mean.get(), d_rstd.get(), n, c));
  EXPECT_EQ(Compare(d_dx.Download(), want_dx, kBackwardLimit, 1.0), "") << "dinp";
  EXPECT_EQ(CompareScaled(d_dw.Download(), want_dw, kBackwardLimit), "") << "dweight";
  EXPECT_EQ(CompareScaled(d_db.Download(), want_db, kBackwardLimit), "") << "dbias";
}

INSTANTIATE_TEST_SUITE_P(Shapes, LayernormCudaTest, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return std::to_string(info.param.n) + "x" +
                                  std::to_string(info.param.c);
                         });

}  // namespace
}  // namespace cloze::cuda
