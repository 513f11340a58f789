// The cuBLASLt matmuls (fp32, and bf16 inputs with fp32 accumulation) against the CPU's
// on fresh random data. Skips, with the reason, where CUDA code is not built or no usable
// GPU is present.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/testing/cuda_test_support.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::CompareScaled;
using testing::DeviceBuffer;
using testing::Gaussian;

// Limits, as error relative to the result tensor's RMS (CompareScaled):
// fp32: sums of k ≤ 1025 products in another order (cuBLAS tiles and may split k) differ
// by ~sqrt(k) ulp of the RMS, ~2e-6; 3e-5 is 10x that, while a transposed operand or a
// missing bias errs by O(1).
constexpr double kFp32Limit = 3e-5;
// bf16 against the CPU on the same bf16-rounded values: the products are exact in fp32 and
// only the fp32 accumulation differs, as above; 1e-4 leaves room for tensor-core
// accumulation order.
constexpr double kBf16SameInputsLimit = 1e-4;
// bf16 against the CPU on the unrounded fp32 values: each input carries 2^-9 relative
// rounding, so results move by ~2^-9·sqrt(2) ≈ 3e-3 of the RMS; the stated 1e-2 limit.
constexpr double kBf16Limit = 1e-2;

struct Shape {
  int64_t n, c, oc;
  bool bias;
};

// A 1×1×1 product, odd sizes everywhere (unaligned leading dimensions), BERT's QKV
// projection, and a product without bias.
const Shape kShapes[] = {{1, 1, 1, true},
                         {7, 33, 5, true},
                         {128, 768, 2304, true},
                         {77, 1025, 129, true},
                         {64, 256, 96, false}};

struct Inputs {
  std::vector<float> inp, weight, bias, dout;
};

Inputs RandomInputs(const Shape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return {Gaussian(rng, s.n * s.c), Gaussian(rng, s.oc * s.c), Gaussian(rng, s.oc),
          Gaussian(rng, s.n * s.oc)};
}

std::vector<Bf16> ToBf16(const std::vector<float>& v) {
  std::vector<Bf16> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = to_bf16(v[i]);
  return out;
}

std::vector<float> RoundedToBf16(const std::vector<float>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = from_bf16(to_bf16(v[i]));
  return out;
}

struct Grads {
  std::vector<float> dinp, dweight, dbias;
};

// The CPU's forward and backward; backward adds into `prior`.
std::vector<float> CpuForward(const Inputs& x, const Shape& s) {
  std::vector<float> out(s.n * s.oc);
  cpu::matmul_forward(out.data(), x.inp.data(), x.weight.data(), s.bias ? x.bias.data() : nullptr,
                      s.n, s.c, s.oc);
  return out;
}

Grads CpuBackward(const Inputs& x, const Shape& s, Grads prior) {
  cpu::matmul_backward(prior.dinp.data(), prior.dweight.data(), prior.dbias.data(), x.dout.data(),
                       x.inp.data(), x.weight.data(), s.n, s.c, s.oc);
  return prior;
}

Grads RandomPrior(const Shape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  return {Gaussian(rng, s.n * s.c), Gaussian(rng, s.oc * s.c), Gaussian(rng, s.oc)};
}

class MatmulCudaTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override {
    CLOZE_SKIP_WITHOUT_GPU();
    DeviceStatus s = BlasContext::Create(&context_);
    ASSERT_TRUE(s.ok()) << s.error;
  }
  std::unique_ptr<BlasContext> context_;
};

TEST_P(MatmulCudaTest, Fp32ForwardMatchesCpu) {
  const Shape s = GetParam();
  const Inputs x = RandomInputs(s, 1300 + s.n * s.c);
  const std::vector<float> want = CpuForward(x, s);
  DeviceBuffer<float> d_inp(x.inp), d_weight(x.weight), d_bias(x.bias), d_out(s.n * s.oc);
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_forward(*context_, d_out.get(), d_inp.get(), d_weight.get(),
                                     s.bias ? d_bias.get() : nullptr, s.n, s.c, s.oc);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(CompareScaled(d_out.Download(), want, kFp32Limit), "");
}

// Backward ADDS: the gradients start from the same random values on both sides.
TEST_P(MatmulCudaTest, Fp32BackwardAccumulatesLikeCpu) {
  const Shape s = GetParam();
  const Inputs x = RandomInputs(s, 1400 + s.n * s.c);
  const Grads prior = RandomPrior(s, 1450 + s.n);
  const Grads want = CpuBackward(x, s, prior);
  DeviceBuffer<float> d_inp(x.inp), d_weight(x.weight), d_dout(x.dout);
  DeviceBuffer<float> d_dinp(prior.dinp), d_dweight(prior.dweight), d_dbias(prior.dbias);
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_backward(*context_, d_dinp.get(), d_dweight.get(), d_dbias.get(),
                                      d_dout.get(), d_inp.get(), d_weight.get(), s.n, s.c, s.oc);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(CompareScaled(d_dinp.Download(), want.dinp, kFp32Limit), "") << "dinp";
  EXPECT_EQ(CompareScaled(d_dweight.Download(), want.dweight, kFp32Limit), "") << "dweight";
  EXPECT_EQ(CompareScaled(d_dbias.Download(), want.dbias, kFp32Limit), "") << "dbias";
}

// Null gradients are skipped, and the others still computed.
TEST_P(MatmulCudaTest, Fp32BackwardSkipsNullGradients) {
  const Shape s = GetParam();
  const Inputs x = RandomInputs(s, 1500 + s.n * s.c);
  const Grads prior = RandomPrior(s, 1550 + s.n);
  std::vector<float> want = prior.dweight;
  cpu::matmul_backward<float>(nullptr, want.data(), nullptr, x.dout.data(), x.inp.data(),
                              x.weight.data(), s.n, s.c, s.oc);
  DeviceBuffer<float> d_inp(x.inp), d_weight(x.weight), d_dout(x.dout), d_dweight(prior.dweight);
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_backward(*context_, nullptr, d_dweight.get(), nullptr, d_dout.get(),
                                      d_inp.get(), d_weight.get(), s.n, s.c, s.oc);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(CompareScaled(d_dweight.Download(), want, kFp32Limit), "");
}

// The device rounding to bf16 is the host's (round to nearest even), bit for bit.
TEST_P(MatmulCudaTest, DeviceBf16RoundingEqualsHost) {
  const Shape s = GetParam();
  const Inputs x = RandomInputs(s, 1600 + s.n * s.c);
  const std::vector<Bf16> want = ToBf16(x.inp);
  DeviceBuffer<float> d_inp(x.inp);
  DeviceBuffer<Bf16> d_out(x.inp.size());
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT(float_to_bf16(d_out.get(), d_inp.get(), s.n * s.c));
  const std::vector<Bf16> got = d_out.Download();
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].bits, want[i].bits) << "element " << i << " = " << x.inp[i];
  }
}

TEST_P(MatmulCudaTest, Bf16ForwardMatchesCpu) {
  const Shape s = GetParam();
  const Inputs x = RandomInputs(s, 1700 + s.n * s.c);
  Inputs rounded = x;
  rounded.inp = RoundedToBf16(x.inp);
  rounded.weight = RoundedToBf16(x.weight);
  DeviceBuffer<Bf16> d_inp(ToBf16(x.inp)), d_weight(ToBf16(x.weight));
  DeviceBuffer<float> d_bias(x.bias), d_out(s.n * s.oc);
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_forward_bf16(*context_, d_out.get(), d_inp.get(), d_weight.get(),
                                          s.bias ? d_bias.get() : nullptr, s.n, s.c, s.oc);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  const std::vector<float> got = d_out.Download();
  EXPECT_EQ(CompareScaled(got, CpuForward(rounded, s), kBf16SameInputsLimit), "")
      << "against fp32 on the bf16-rounded inputs";
  EXPECT_EQ(CompareScaled(got, CpuForward(x, s), kBf16Limit), "") << "against fp32";
}

TEST_P(MatmulCudaTest, Bf16BackwardAccumulatesLikeCpu) {
  const Shape s = GetParam();
  const Inputs x = RandomInputs(s, 1800 + s.n * s.c);
  Inputs rounded = x;
  rounded.inp = RoundedToBf16(x.inp);
  rounded.weight = RoundedToBf16(x.weight);
  rounded.dout = RoundedToBf16(x.dout);
  const Grads prior = RandomPrior(s, 1850 + s.n);
  DeviceBuffer<Bf16> d_inp(ToBf16(x.inp)), d_weight(ToBf16(x.weight)), d_dout(ToBf16(x.dout));
  DeviceBuffer<float> d_dinp(prior.dinp), d_dweight(prior.dweight), d_dbias(prior.dbias);
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st =
        matmul_backward_bf16(*context_, d_dinp.get(), d_dweight.get(), d_dbias.get(),
                             d_dout.get(), d_inp.get(), d_weight.get(), s.n, s.c, s.oc);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  const Grads same = CpuBackward(rounded, s, prior), fp32 = CpuBackward(x, s, prior);
  const std::vector<float> dinp = d_dinp.Download(), dweight = d_dweight.Download(),
                           dbias = d_dbias.Download();
  EXPECT_EQ(CompareScaled(dinp, same.dinp, kBf16SameInputsLimit), "") << "dinp, rounded inputs";
  EXPECT_EQ(CompareScaled(dweight, same.dweight, kBf16SameInputsLimit), "")
      << "dweight, rounded inputs";
  EXPECT_EQ(CompareScaled(dbias, same.dbias, kBf16SameInputsLimit), "") << "dbias, rounded inputs";
  EXPECT_EQ(CompareScaled(dinp, fp32.dinp, kBf16Limit), "") << "dinp";
  EXPECT_EQ(CompareScaled(dweight, fp32.dweight, kBf16Limit), "") << "dweight";
  EXPECT_EQ(CompareScaled(dbias, fp32.dbias, kBf16Limit), "") << "dbias";
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulCudaTest, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           const Shape& s = info.param;
                           return std::to_string(s.n) + "x" + std::to_string(s.c) + "x" +
                                  std::to_string(s.oc) + (s.bias ? "" : "_nobias");
                         });

}  // namespace
}  // namespace cloze::cuda
