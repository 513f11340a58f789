// The cuBLASLt matmuls (fp32, and bf16 inputs with fp32 accumulation) against the CPU's
// on fresh random data; the fused GELU epilogues against the CPU's matmul then GELU; and
// the per-context plan cache. Skips, with the reason, where CUDA code is not built or no
// usable GPU is present; the checks of the limits themselves run everywhere.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/activations.h"
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

// ---- Fused bias + GELU (tanh) forward, and the DGELU input gradient ----

// GELU outputs and d_pre, as error relative to the tensor's RMS: the GEMM's error (above)
// plus that of cuBLASLt's tanh, which published measurements put at ~6e-6 from the tanh
// formula; 2e-4 leaves 30x room, while the erf GELU differs by more (GeluLimitTest checks
// that on these very inputs, so the tests can tell which GELU the epilogue computes).
constexpr double kGeluLimit = 2e-4;

// The FFN: inp (n, hidden) → pre, out (n, inner) forward; dout (n, hidden) and W2
// (hidden, inner) → d_pre (n, inner) backward. `offset` floats (or bf16s) shift every
// buffer off its allocation's 256-byte alignment: 1 makes unaligned slices, as of the
// flat parameter buffer, which takes the fallback (the aux matrix needs 16 bytes).
struct FfnShape {
  int64_t n, hidden, inner;
  bool bias;
  int64_t offset;
};

// inner % 8 != 0 takes the fallback (1, 5, 129); inner % 8 == 0 with aligned buffers the
// fused epilogue where cuBLASLt has an algorithm (BERT-base's FFN, odd n and k, no bias).
const FfnShape kFfnShapes[] = {{1, 1, 1, true, 0},           {7, 33, 5, true, 0},
                               {128, 768, 3072, true, 0},    {77, 1025, 136, true, 0},
                               {64, 256, 96, false, 0},      {33, 65, 129, true, 0},
                               {128, 768, 3072, true, 1},    {31, 64, 40, false, 1}};

// Unit-scale pre-activations (weights ~ N(0, 1/fan_in)), where GELU is curved and the
// tanh and erf forms differ; N(0, 1) ones would be mostly saturated.
struct FfnInputs {
  std::vector<float> inp, w1, b1;          // forward
  std::vector<float> dout, w2, pre;        // backward
};

FfnInputs RandomFfnInputs(const FfnShape& s, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const float w1_sigma = 1.0f / std::sqrt(float(s.hidden)), w2_sigma = w1_sigma;
  return {Gaussian(rng, s.n * s.hidden),         Gaussian(rng, s.inner * s.hidden, w1_sigma),
          Gaussian(rng, s.inner, 0.5f),          Gaussian(rng, s.n * s.hidden),
          Gaussian(rng, s.hidden * s.inner, w2_sigma), Gaussian(rng, s.n * s.inner, 1.2f)};
}

struct ForwardWant {
  std::vector<float> pre, out;
};

ForwardWant CpuGeluForward(const FfnInputs& x, const FfnShape& s, const std::vector<float>& inp,
                           const std::vector<float>& w1) {
  ForwardWant want{std::vector<float>(s.n * s.inner), std::vector<float>(s.n * s.inner)};
  cpu::matmul_forward(want.pre.data(), inp.data(), w1.data(), s.bias ? x.b1.data() : nullptr, s.n,
                      s.hidden, s.inner);
  cpu::gelu_tanh_forward(want.out.data(), want.pre.data(), s.n * s.inner);
  return want;
}

// d_pre = (dout · W2) ⊙ gelu_tanh'(pre), both into zeroed buffers as the CPU ops add.
std::vector<float> CpuDGelu(const FfnInputs& x, const FfnShape& s, const std::vector<float>& dout,
                            const std::vector<float>& w2) {
  std::vector<float> d_act(s.n * s.inner, 0.0f), d_pre(s.n * s.inner, 0.0f);
  cpu::matmul_backward<float>(d_act.data(), nullptr, nullptr, dout.data(), x.pre.data(), w2.data(),
                              s.n, s.inner, s.hidden);
  cpu::gelu_tanh_backward(d_pre.data(), x.pre.data(), d_act.data(), s.n * s.inner);
  return d_pre;
}

// `v` behind `offset` NaN elements: read by mistake, they poison the result.
template <typename T>
std::vector<T> Shifted(const std::vector<T>& v, int64_t offset, T pad) {
  std::vector<T> out(offset, pad);
  out.insert(out.end(), v.begin(), v.end());
  return out;
}
std::vector<float> Shifted(const std::vector<float>& v, int64_t offset) {
  return Shifted(v, offset, std::numeric_limits<float>::quiet_NaN());
}
std::vector<Bf16> ShiftedBf16(const std::vector<float>& v, int64_t offset) {
  return Shifted(ToBf16(v), offset, Bf16{0x7fc0});
}

// The device result past the shift.
std::vector<float> Unshifted(DeviceBuffer<float>& d, int64_t offset) {
  std::vector<float> v = d.Download();
  return std::vector<float>(v.begin() + offset, v.end());
}

// Runs everywhere: the limit must fail the erf GELU on the tests' own inputs, or the GPU
// tests could not tell which GELU cuBLASLt computes.
TEST(GeluLimitTest, TellsTanhFromErfOnTheTestInputs) {
  const FfnShape s = {128, 768, 3072, true, 0};
  const FfnInputs x = RandomFfnInputs(s, 2100);
  const ForwardWant tanh = CpuGeluForward(x, s, x.inp, x.w1);
  std::vector<float> erf(tanh.pre.size());
  cpu::gelu_erf_forward(erf.data(), tanh.pre.data(), int64_t(erf.size()));
  EXPECT_NE(CompareScaled(erf, tanh.out, kGeluLimit), "") << "forward";

  const std::vector<float> d_tanh = CpuDGelu(x, s, x.dout, x.w2);
  std::vector<float> d_act(s.n * s.inner, 0.0f), d_erf(s.n * s.inner, 0.0f);
  cpu::matmul_backward<float>(d_act.data(), nullptr, nullptr, x.dout.data(), x.pre.data(),
                              x.w2.data(), s.n, s.inner, s.hidden);
  cpu::gelu_erf_backward(d_erf.data(), x.pre.data(), d_act.data(), s.n * s.inner);
  EXPECT_NE(CompareScaled(d_erf, d_tanh, kGeluLimit), "") << "backward";
}

class MatmulGeluCudaTest : public ::testing::TestWithParam<FfnShape> {
 protected:
  void SetUp() override {
    CLOZE_SKIP_WITHOUT_GPU();
    DeviceStatus st = BlasContext::Create(&context_);
    ASSERT_TRUE(st.ok()) << st.error;
  }
  std::unique_ptr<BlasContext> context_;
};

TEST_P(MatmulGeluCudaTest, Fp32ForwardMatchesCpuMatmulThenGelu) {
  const FfnShape s = GetParam();
  const int64_t o = s.offset;
  const FfnInputs x = RandomFfnInputs(s, 2200 + s.n * s.inner);
  const ForwardWant want = CpuGeluForward(x, s, x.inp, x.w1);
  DeviceBuffer<float> d_inp(Shifted(x.inp, o)), d_w1(Shifted(x.w1, o)), d_b1(Shifted(x.b1, o));
  DeviceBuffer<float> d_pre(o + s.n * s.inner), d_out(o + s.n * s.inner);
  d_pre.Poison();
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_gelu_forward(*context_, d_out.get() + o, d_pre.get() + o,
                                          d_inp.get() + o, d_w1.get() + o,
                                          s.bias ? d_b1.get() + o : nullptr, s.n, s.hidden, s.inner);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(CompareScaled(Unshifted(d_pre, o), want.pre, kFp32Limit), "") << "pre_activation";
  EXPECT_EQ(CompareScaled(Unshifted(d_out, o), want.out, kGeluLimit), "") << "out";
}

// d_pre starts poisoned: a product that read it (beta != 0) would give NaN.
TEST_P(MatmulGeluCudaTest, Fp32DGeluOverwritesWithCpuMatmulThenGeluGrad) {
  const FfnShape s = GetParam();
  const int64_t o = s.offset;
  const FfnInputs x = RandomFfnInputs(s, 2300 + s.n * s.inner);
  const std::vector<float> want = CpuDGelu(x, s, x.dout, x.w2);
  DeviceBuffer<float> d_dout(Shifted(x.dout, o)), d_w2(Shifted(x.w2, o)), d_pre(Shifted(x.pre, o));
  DeviceBuffer<float> d_dpre(o + s.n * s.inner);
  d_dpre.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_dgelu_backward(*context_, d_dpre.get() + o, d_dout.get() + o,
                                            d_w2.get() + o, d_pre.get() + o, s.n, s.inner,
                                            s.hidden);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(CompareScaled(Unshifted(d_dpre, o), want, kGeluLimit), "");
}

TEST_P(MatmulGeluCudaTest, Bf16ForwardMatchesCpuMatmulThenGelu) {
  const FfnShape s = GetParam();
  const int64_t o = s.offset;
  const FfnInputs x = RandomFfnInputs(s, 2400 + s.n * s.inner);
  const ForwardWant same = CpuGeluForward(x, s, RoundedToBf16(x.inp), RoundedToBf16(x.w1));
  const ForwardWant fp32 = CpuGeluForward(x, s, x.inp, x.w1);
  DeviceBuffer<Bf16> d_inp(ShiftedBf16(x.inp, o)), d_w1(ShiftedBf16(x.w1, o));
  DeviceBuffer<float> d_b1(Shifted(x.b1, o)), d_pre(o + s.n * s.inner), d_out(o + s.n * s.inner);
  d_pre.Poison();
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_gelu_forward_bf16(
        *context_, d_out.get() + o, d_pre.get() + o, d_inp.get() + o, d_w1.get() + o,
        s.bias ? d_b1.get() + o : nullptr, s.n, s.hidden, s.inner);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  const std::vector<float> pre = Unshifted(d_pre, o), out = Unshifted(d_out, o);
  EXPECT_EQ(CompareScaled(pre, same.pre, kBf16SameInputsLimit), "") << "pre, rounded inputs";
  EXPECT_EQ(CompareScaled(out, same.out, kBf16SameInputsLimit + kGeluLimit), "")
      << "out, rounded inputs";
  EXPECT_EQ(CompareScaled(pre, fp32.pre, kBf16Limit), "") << "pre";
  EXPECT_EQ(CompareScaled(out, fp32.out, kBf16Limit), "") << "out";
}

TEST_P(MatmulGeluCudaTest, Bf16DGeluOverwritesWithCpuMatmulThenGeluGrad) {
  const FfnShape s = GetParam();
  const int64_t o = s.offset;
  const FfnInputs x = RandomFfnInputs(s, 2500 + s.n * s.inner);
  const std::vector<float> same = CpuDGelu(x, s, RoundedToBf16(x.dout), RoundedToBf16(x.w2));
  const std::vector<float> fp32 = CpuDGelu(x, s, x.dout, x.w2);
  DeviceBuffer<Bf16> d_dout(ShiftedBf16(x.dout, o)), d_w2(ShiftedBf16(x.w2, o));
  DeviceBuffer<float> d_pre(Shifted(x.pre, o)), d_dpre(o + s.n * s.inner);
  d_dpre.Poison();
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_dgelu_backward_bf16(*context_, d_dpre.get() + o, d_dout.get() + o,
                                                 d_w2.get() + o, d_pre.get() + o, s.n, s.inner,
                                                 s.hidden);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  const std::vector<float> got = Unshifted(d_dpre, o);
  EXPECT_EQ(CompareScaled(got, same, kBf16SameInputsLimit + kGeluLimit), "") << "rounded inputs";
  EXPECT_EQ(CompareScaled(got, fp32, kBf16Limit), "");
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatmulGeluCudaTest, ::testing::ValuesIn(kFfnShapes),
                         [](const ::testing::TestParamInfo<FfnShape>& info) {
                           const FfnShape& s = info.param;
                           return std::to_string(s.n) + "x" + std::to_string(s.hidden) + "x" +
                                  std::to_string(s.inner) + (s.bias ? "" : "_nobias") +
                                  (s.offset != 0 ? "_unaligned" : "");
                         });

// ---- The plan cache ----

bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class MatmulPlanCacheCudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    CLOZE_SKIP_WITHOUT_GPU();
    DeviceStatus st = BlasContext::Create(&context_);
    ASSERT_TRUE(st.ok()) << st.error;
  }

  // matmul_forward of `s` on fresh device copies of x, with `context`.
  std::vector<float> Forward(BlasContext& context, const Inputs& x, const Shape& s,
                             int64_t offset = 0) {
    DeviceBuffer<float> d_inp(Shifted(x.inp, offset)), d_weight(x.weight), d_bias(x.bias);
    DeviceBuffer<float> d_out(s.n * s.oc);
    d_out.Poison();
    CLOZE_IF_CUDA_BUILT({
      DeviceStatus st = matmul_forward(context, d_out.get(), d_inp.get() + offset, d_weight.get(),
                                       s.bias ? d_bias.get() : nullptr, s.n, s.c, s.oc);
      EXPECT_TRUE(st.ok()) << st.error;
    });
    return d_out.Download();
  }

  std::unique_ptr<BlasContext> context_;
};

const Shape kShapeA = {77, 1025, 129, true}, kShapeB = {64, 256, 96, false};

TEST_F(MatmulPlanCacheCudaTest, RepeatedShapeReusesItsPlanAndResults) {
  const Inputs x = RandomInputs(kShapeA, 2600);
  EXPECT_EQ(context_->cached_plan_count(), 0u);
  const std::vector<float> first = Forward(*context_, x, kShapeA);
  EXPECT_EQ(context_->cached_plan_count(), 1u);
  const std::vector<float> second = Forward(*context_, x, kShapeA);
  EXPECT_EQ(context_->cached_plan_count(), 1u) << "the second call made a plan of its own";
  EXPECT_TRUE(BitwiseEqual(first, second));
  EXPECT_EQ(CompareScaled(second, CpuForward(x, kShapeA), kFp32Limit), "");
}

// A, B, A, B on one context give what each gives on a context of its own: a cached plan
// is never confused with another shape's, nor changed by it.
TEST_F(MatmulPlanCacheCudaTest, InterleavedShapesGiveTheResultsOfFreshContexts) {
  const Inputs xa = RandomInputs(kShapeA, 2700), xb = RandomInputs(kShapeB, 2701);
  std::vector<float> fresh_a, fresh_b;
  for (const auto& [x, s, out] : {std::tuple{&xa, &kShapeA, &fresh_a}, std::tuple{&xb, &kShapeB, &fresh_b}}) {
    std::unique_ptr<BlasContext> fresh;
    DeviceStatus st = BlasContext::Create(&fresh);
    ASSERT_TRUE(st.ok()) << st.error;
    *out = Forward(*fresh, *x, *s);
  }
  for (int round = 0; round < 2; ++round) {
    EXPECT_TRUE(BitwiseEqual(Forward(*context_, xa, kShapeA), fresh_a)) << "A, round " << round;
    EXPECT_TRUE(BitwiseEqual(Forward(*context_, xb, kShapeB), fresh_b)) << "B, round " << round;
  }
  EXPECT_EQ(context_->cached_plan_count(), 2u);
}

// The heuristic assumed the first call's alignment; a less aligned input must not reuse
// that plan.
TEST_F(MatmulPlanCacheCudaTest, LessAlignedInputGetsAPlanOfItsOwn) {
  const Inputs x = RandomInputs(kShapeB, 2800);
  const std::vector<float> want = CpuForward(x, kShapeB);
  EXPECT_EQ(CompareScaled(Forward(*context_, x, kShapeB), want, kFp32Limit), "") << "aligned";
  EXPECT_EQ(CompareScaled(Forward(*context_, x, kShapeB, /*offset=*/1), want, kFp32Limit), "")
      << "one float in";
  EXPECT_EQ(context_->cached_plan_count(), 2u);
}

// The fused op's plan (or its remembered absence, for the fallback) is cached like any:
// one plan when the epilogue ran, two (the unsupported fused one and the plain GEMM's)
// when the op fell back.
TEST_F(MatmulPlanCacheCudaTest, Fp32FusedGeluRepeatsWithoutNewPlans) {
  const FfnShape s = {128, 768, 3072, true, 0};
  const FfnInputs x = RandomFfnInputs(s, 2900);
  DeviceBuffer<float> d_inp(x.inp), d_w1(x.w1), d_b1(x.b1), d_pre(s.n * s.inner),
      d_out(s.n * s.inner);
  std::vector<float> outs[2];
  size_t plans[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    d_out.Poison();
    CLOZE_IF_CUDA_BUILT({
      DeviceStatus st = matmul_gelu_forward(*context_, d_out.get(), d_pre.get(), d_inp.get(),
                                            d_w1.get(), d_b1.get(), s.n, s.hidden, s.inner);
      ASSERT_TRUE(st.ok()) << st.error;
    });
    outs[i] = d_out.Download();
    plans[i] = context_->cached_plan_count();
  }
  std::printf("fp32 GELU_AUX_BIAS epilogue %s\n", plans[0] == 1 ? "used" : "unsupported: fell back");
  EXPECT_GE(plans[0], 1u);
  EXPECT_EQ(plans[1], plans[0]);
  EXPECT_TRUE(BitwiseEqual(outs[0], outs[1]));
}

// The mixed-precision path is what the fusion is for: on BERT-base's aligned FFN shapes
// the bf16 epilogues must actually run (one plan, no fallback GEMM), not just fall back.
TEST_F(MatmulPlanCacheCudaTest, Bf16EpiloguesAreUsedOnAlignedBertShapes) {
  const FfnShape s = {128, 768, 3072, true, 0};
  const FfnInputs x = RandomFfnInputs(s, 3000);
  DeviceBuffer<Bf16> d_inp(ToBf16(x.inp)), d_w1(ToBf16(x.w1)), d_dout(ToBf16(x.dout)),
      d_w2(ToBf16(x.w2));
  DeviceBuffer<float> d_b1(x.b1), d_pre(x.pre), d_out(s.n * s.inner), d_dpre(s.n * s.inner);
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_gelu_forward_bf16(*context_, d_out.get(), d_pre.get(), d_inp.get(),
                                               d_w1.get(), d_b1.get(), s.n, s.hidden, s.inner);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(context_->cached_plan_count(), 1u) << "GELU_AUX_BIAS fell back";
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus st = matmul_dgelu_backward_bf16(*context_, d_dpre.get(), d_dout.get(),
                                                 d_w2.get(), d_pre.get(), s.n, s.inner, s.hidden);
    ASSERT_TRUE(st.ok()) << st.error;
  });
  EXPECT_EQ(context_->cached_plan_count(), 2u) << "DGELU fell back";
  EXPECT_TRUE(device_synchronize().ok());
}

}  // namespace
}  // namespace cloze::cuda
