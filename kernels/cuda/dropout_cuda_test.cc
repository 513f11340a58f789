// The CUDA dropout and residual ops against their CPU twins. Dropout's mask must be the
// CPU's EXACTLY (both draw it from kernels/philox.h): a GPU run and a CPU run of the same
// step drop the same elements. Skips, with the reason, where CUDA code is not built or no
// usable GPU is present.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/residual.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/residual.h"
#include "kernels/cuda/testing/cuda_test_support.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::DeviceBuffer;
using testing::Gaussian;

// fp32 limits: none. Every op here is one or two float operations per element done as the
// CPU does them (no FMA: dropout's backward multiplies with __fmul_rn), so results are
// bitwise equal; anything else is a bug.
constexpr double kExact = 0.0;

struct Case {
  int64_t n;
  float p;
  uint64_t first_index;  // DropoutSpec::first_index
  uint64_t first;        // slice offset (0: the whole-tensor entry points)
};

// n = 1 and odd sizes leave partial blocks; first_index and first not multiples of 4 start
// mid Philox block; (1 << 22) + 5 exceeds the grid cap, so the grid-stride loop repeats.
const Case kCases[] = {{1, 0.1f, 0, 0},          {1001, 0.1f, 5, 0},     {1001, 0.5f, 0, 7},
                       {(1 << 22) + 5, 0.1f, 3, 0}, {4099, 0.9f, 123, 13}};

class DropoutCudaTest : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

DropoutSpec SpecFor(const Case& c) {
  DropoutSpec spec;
  spec.p = c.p;
  spec.seed = 0x5eed0000 + c.n;
  spec.stream = 17;
  spec.first_index = c.first_index;
  return spec;
}

// Inputs with no zeros, so a zero output means exactly "dropped".
std::vector<float> NonZero(std::mt19937_64& rng, int64_t n) {
  std::vector<float> v = Gaussian(rng, n);
  for (float& x : v) x = x >= 0 ? x + 0.5f : x - 0.5f;
  return v;
}

TEST_P(DropoutCudaTest, ForwardMaskAndValuesEqualCpu) {
  const Case c = GetParam();
  const DropoutSpec spec = SpecFor(c);
  std::mt19937_64 rng(900 + c.n);
  const std::vector<float> x = NonZero(rng, c.n);
  std::vector<float> want(c.n, NAN);
  cpu::dropout_forward_slice(want.data(), x.data(), c.n, c.first, spec);

  DeviceBuffer<float> d_x(x), d_out(c.n);
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT(c.first == 0 ? dropout_forward(d_out.get(), d_x.get(), c.n, spec)
                                   : dropout_forward_slice(d_out.get(), d_x.get(), c.n, c.first,
                                                           spec));
  const std::vector<float> got = d_out.Download();
  int64_t mask_mismatches = 0, dropped = 0;
  for (int64_t i = 0; i < c.n; ++i) {
    const bool keep = cpu::dropout_keeps(spec, c.first + i);
    mask_mismatches += (got[i] != 0.0f) != keep;
    dropped += !keep;
  }
  EXPECT_EQ(mask_mismatches, 0) << "of " << c.n << " elements";
  EXPECT_EQ(Compare(got, want, kExact, 1.0), "");
  if (c.n > 1000) {  // the mask is not degenerate: roughly p of the elements go
    EXPECT_NEAR(double(dropped) / c.n, c.p, 0.05);
  }
}

// In place (out == inp), as the model runs it on activations.
TEST_P(DropoutCudaTest, ForwardInPlaceEqualsCpu) {
  const Case c = GetParam();
  const DropoutSpec spec = SpecFor(c);
  std::mt19937_64 rng(950 + c.n);
  std::vector<float> want = NonZero(rng, c.n);
  DeviceBuffer<float> d_x(want);
  cpu::dropout_forward_slice(want.data(), want.data(), c.n, c.first, spec);
  CLOZE_IF_CUDA_BUILT(dropout_forward_slice(d_x.get(), d_x.get(), c.n, c.first, spec));
  EXPECT_EQ(Compare(d_x.Download(), want, kExact, 1.0), "");
}

// Backward ADDS the kept gradients: dinp starts from the same random values on both sides
// (the poison's part), and dropped elements must keep them exactly.
TEST_P(DropoutCudaTest, BackwardAccumulatesLikeCpu) {
  const Case c = GetParam();
  const DropoutSpec spec = SpecFor(c);
  std::mt19937_64 rng(1000 + c.n);
  const std::vector<float> dout = Gaussian(rng, c.n);
  std::vector<float> want = Gaussian(rng, c.n);
  DeviceBuffer<float> d_dout(dout), d_dinp(want);
  cpu::dropout_backward_slice(want.data(), dout.data(), c.n, c.first, spec);
  CLOZE_IF_CUDA_BUILT(c.first == 0 ? dropout_backward(d_dinp.get(), d_dout.get(), c.n, spec)
                                   : dropout_backward_slice(d_dinp.get(), d_dout.get(), c.n,
                                                            c.first, spec));
  EXPECT_EQ(Compare(d_dinp.Download(), want, kExact, 1.0), "");
}

INSTANTIATE_TEST_SUITE_P(Cases, DropoutCudaTest, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           return "n" + std::to_string(info.param.n) + "_p" +
                                  std::to_string(int(info.param.p * 100)) + "_first" +
                                  std::to_string(info.param.first_index) + "_" +
                                  std::to_string(info.param.first);
                         });

class InactiveDropoutCudaTest : public ::testing::Test {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

// p = 0 copies forward (out-of-place) and adds backward, as the CPU.
TEST_F(InactiveDropoutCudaTest, CopiesAndAccumulates) {
  const int64_t n = 777;
  std::mt19937_64 rng(1100);
  const std::vector<float> x = Gaussian(rng, n), prior = Gaussian(rng, n);
  const DropoutSpec off;
  DeviceBuffer<float> d_x(x), d_out(n), d_dinp(prior);
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT(dropout_forward(d_out.get(), d_x.get(), n, off));
  CLOZE_IF_CUDA_BUILT(dropout_backward(d_dinp.get(), d_x.get(), n, off));
  EXPECT_EQ(Compare(d_out.Download(), x, kExact, 1.0), "");
  std::vector<float> want = prior;
  cpu::dropout_backward(want.data(), x.data(), n, off);
  EXPECT_EQ(Compare(d_dinp.Download(), want, kExact, 1.0), "");
}

class ResidualCudaTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

TEST_P(ResidualCudaTest, ForwardAndAccumulateEqualCpu) {
  const int64_t n = GetParam();
  std::mt19937_64 rng(1200 + n);
  const std::vector<float> a = Gaussian(rng, n), b = Gaussian(rng, n);
  std::vector<float> want_sum(n), want_acc = b;
  cpu::residual_forward(want_sum.data(), a.data(), b.data(), n);
  cpu::accumulate(want_acc.data(), a.data(), n);

  DeviceBuffer<float> d_a(a), d_b(b), d_out(n);
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT(residual_forward(d_out.get(), d_a.get(), d_b.get(), n));
  EXPECT_EQ(Compare(d_out.Download(), want_sum, kExact, 1.0), "") << "residual_forward";
  CLOZE_IF_CUDA_BUILT(accumulate(d_b.get(), d_a.get(), n));
  EXPECT_EQ(Compare(d_b.Download(), want_acc, kExact, 1.0), "") << "accumulate";
}

INSTANTIATE_TEST_SUITE_P(Sizes, ResidualCudaTest, ::testing::Values(1, 1001, (1 << 22) + 5));

}  // namespace
}  // namespace cloze::cuda
