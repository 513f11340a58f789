// The fused dropout + residual + layer norm on the GPU against (1) the CPU composition it
// replaces, (2) its host emulation, which predicts its bits, and (3) the unfused GPU ops,
// which share its row code and so must agree bit for bit. Skips, with the reason, where CUDA
// code is not built or no usable GPU is present.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/residual.h"
#include "kernels/cuda/residual_layernorm.h"
#include "kernels/cuda/testing/cuda_test_support.h"
#include "kernels/cuda/testing/residual_layernorm_cases.h"
#include "kernels/cuda/testing/residual_layernorm_emulation.h"
#include "kernels/cuda/testing/residual_layernorm_reference.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::CompareScaled;
using testing::DeviceBuffer;
using testing::Gaussian;
using testing::ResidualLayernormCase;

// Against the CPU: sum is exact (element-wise, rounded alike); the rest differ by the order
// of the row sums, as layernorm_cuda_test's 1e-5 allows. Against the emulation and the
// unfused ops: exact (Compare's 0 also equates +0 and −0, the one difference allowed).
constexpr double kCpuLimit = 1e-5;
constexpr double kExact = 0.0;

std::vector<float> Widen(const std::vector<Bf16>& v) {
  std::vector<float> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) out[i] = from_bf16(v[i]);
  return out;
}

// Host inputs of one case, and where the three answers go.
struct Inputs {
  std::vector<float> x, residual, weight, bias, dout, prior_dresidual, prior_dw, prior_db;
};

Inputs MakeInputs(const ResidualLayernormCase& k) {
  std::mt19937_64 rng(7000 + k.n * 13 + k.c);
  Inputs in;
  in.x = Gaussian(rng, k.n * k.c, 2.0f);
  for (float& v : in.x) v += 0.3f;  // away from (0, 1), so mean and rstd matter
  in.residual = Gaussian(rng, k.n * k.c);
  in.weight = Gaussian(rng, k.c, 0.5f);
  for (float& v : in.weight) v += 1.0f;
  in.bias = Gaussian(rng, k.c);
  in.dout = Gaussian(rng, k.n * k.c);
  in.prior_dresidual = Gaussian(rng, k.n * k.c);
  in.prior_dw = Gaussian(rng, k.c);
  in.prior_db = Gaussian(rng, k.c);
  return in;
}

constexpr float kEps = 1e-12f;

class ResidualLayernormCudaTest : public ::testing::TestWithParam<ResidualLayernormCase> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

TEST_P(ResidualLayernormCudaTest, ForwardAndBackwardMatchCpuAndEmulation) {
  const ResidualLayernormCase k = GetParam();
  const int64_t n = k.n, c = k.c;
  const DropoutSpec spec = k.Dropout();
  const Inputs in = MakeInputs(k);

  // The CPU composition and the host emulation, from the same priors.
  std::vector<float> cpu_out(n * c), cpu_sum(n * c), cpu_mean(n), cpu_rstd(n), cpu_dx(n * c);
  std::vector<float> cpu_dres = in.prior_dresidual, cpu_dw = in.prior_dw, cpu_db = in.prior_db;
  testing::ReferenceForward(cpu_out.data(), cpu_sum.data(), cpu_mean.data(), cpu_rstd.data(),
                            in.x.data(), in.residual.data(), in.weight.data(), in.bias.data(), n,
                            c, kEps, spec);
  testing::ReferenceBackward(cpu_dx.data(), cpu_dres.data(), cpu_dw.data(), cpu_db.data(),
                             in.dout.data(), cpu_sum.data(), in.weight.data(), cpu_mean.data(),
                             cpu_rstd.data(), n, c, spec);
  std::vector<float> emu_out(n * c), emu_sum(n * c), emu_mean(n), emu_rstd(n), emu_dx(n * c);
  std::vector<Bf16> emu_bf16(n * c);
  std::vector<float> emu_dres = in.prior_dresidual, emu_dw = in.prior_dw, emu_db = in.prior_db;
  testing::EmulatedForward(emu_out.data(), emu_bf16.data(), emu_sum.data(), emu_mean.data(),
                           emu_rstd.data(), in.x.data(), in.residual.data(), in.weight.data(),
                           in.bias.data(), n, c, kEps, spec);
  testing::EmulatedBackward(emu_dx.data(), emu_dres.data(), emu_dw.data(), emu_db.data(),
                            in.dout.data(), emu_sum.data(), in.weight.data(), emu_mean.data(),
                            emu_rstd.data(), n, c, spec);

  DeviceBuffer<float> d_x(in.x), d_res(in.residual), d_w(in.weight), d_b(in.bias),
      d_dout(in.dout);
  DeviceBuffer<float> d_out(n * c), d_sum(n * c), d_mean(n), d_rstd(n), d_dx(n * c);
  DeviceBuffer<Bf16> d_bf16(n * c);
  DeviceBuffer<float> d_dres(in.prior_dresidual), d_dw(in.prior_dw), d_db(in.prior_db);
  d_out.Poison();
  d_sum.Poison();
  d_mean.Poison();
  d_rstd.Poison();
  d_dx.Poison();  // overwritten, so the poison must not survive
  d_bf16.Poison();
#ifdef CLOZE_CUDA_BUILT
  {
    DeviceStatus s = dropout_residual_layernorm_forward(
        d_out.get(), d_bf16.get(), d_sum.get(), d_mean.get(), d_rstd.get(), d_x.get(),
        d_res.get(), d_w.get(), d_b.get(), n, c, kEps, spec);
    ASSERT_TRUE(s.ok()) << s.error;
    s = dropout_residual_layernorm_backward(d_dx.get(), d_dres.get(), d_dw.get(), d_db.get(),
                                            d_dout.get(), d_sum.get(), d_w.get(), d_mean.get(),
                                            d_rstd.get(), n, c, spec);
    ASSERT_TRUE(s.ok()) << s.error;
  }
#endif
  const std::vector<float> out = d_out.Download(), sum = d_sum.Download(),
                           mean = d_mean.Download(), rstd = d_rstd.Download(),
                           dx = d_dx.Download(), dres = d_dres.Download(), dw = d_dw.Download(),
                           db = d_db.Download();
  const std::vector<float> out_bf16 = Widen(d_bf16.Download());

  EXPECT_EQ(Compare(sum, cpu_sum, kExact, 1.0), "") << "sum vs cpu";
  EXPECT_EQ(Compare(out, cpu_out, kCpuLimit, 1.0), "") << "out vs cpu";
  EXPECT_EQ(Compare(mean, cpu_mean, kCpuLimit, 1.0), "") << "mean vs cpu";
  EXPECT_EQ(Compare(rstd, cpu_rstd, kCpuLimit, 0.0), "") << "rstd vs cpu";
  EXPECT_EQ(Compare(dx, cpu_dx, kCpuLimit, 1.0), "") << "dx vs cpu";
  EXPECT_EQ(Compare(dres, cpu_dres, kCpuLimit, 1.0), "") << "dresidual vs cpu";
  EXPECT_EQ(CompareScaled(dw, cpu_dw, kCpuLimit), "") << "dweight vs cpu";
  EXPECT_EQ(CompareScaled(db, cpu_db, kCpuLimit), "") << "dbias vs cpu";

  // Bit for bit with the emulation: a difference means an FMA, rsqrt or a changed reduction
  // crept into the kernels (or the emulation fell out of step with them).
  EXPECT_EQ(Compare(sum, emu_sum, kExact, 1.0), "") << "sum vs emulation";
  EXPECT_EQ(Compare(out, emu_out, kExact, 1.0), "") << "out vs emulation";
  EXPECT_EQ(Compare(out_bf16, Widen(emu_bf16), kExact, 1.0), "") << "out_bf16 vs emulation";
  EXPECT_EQ(Compare(mean, emu_mean, kExact, 1.0), "") << "mean vs emulation";
  EXPECT_EQ(Compare(rstd, emu_rstd, kExact, 1.0), "") << "rstd vs emulation";
  EXPECT_EQ(Compare(dx, emu_dx, kExact, 1.0), "") << "dx vs emulation";
  EXPECT_EQ(Compare(dres, emu_dres, kExact, 1.0), "") << "dresidual vs emulation";
  EXPECT_EQ(Compare(dw, emu_dw, kExact, 1.0), "") << "dweight vs emulation";
  EXPECT_EQ(Compare(db, emu_db, kExact, 1.0), "") << "dbias vs emulation";
}

// The sequence the fused op replaces in GpuModel, on the GPU: every output equal bit for bit.
TEST_P(ResidualLayernormCudaTest, EqualsUnfusedGpuOps) {
  const ResidualLayernormCase k = GetParam();
  const int64_t n = k.n, c = k.c;
  [[maybe_unused]] const DropoutSpec spec = k.Dropout();  // unused where CUDA is not built
  const Inputs in = MakeInputs(k);

  DeviceBuffer<float> d_x(in.x), d_res(in.residual), d_w(in.weight), d_b(in.bias),
      d_dout(in.dout);
  // Fused; sum aliases x, as the model drops out in place.
  DeviceBuffer<float> f_sum(in.x), f_out(n * c), f_mean(n), f_rstd(n), f_dx(n * c);
  DeviceBuffer<Bf16> f_bf16(n * c);
  DeviceBuffer<float> f_dres(in.prior_dresidual), f_dw(in.prior_dw), f_db(in.prior_db);
  // Unfused, as GpuModel::ForwardLayer/BackwardLayer run it.
  DeviceBuffer<float> u_sum(in.x), u_out(n * c), u_mean(n), u_rstd(n), u_dsum(n * c),
      u_dx(n * c);
  DeviceBuffer<Bf16> u_bf16(n * c);
  DeviceBuffer<float> u_dres(in.prior_dresidual), u_dw(in.prior_dw), u_db(in.prior_db);
  const std::vector<float> zeros(n * c, 0.0f);
  u_dsum.Upload(zeros);
  u_dx.Upload(zeros);
  f_dx.Poison();
#ifdef CLOZE_CUDA_BUILT
  {
    DeviceStatus s = dropout_residual_layernorm_forward(
        f_out.get(), f_bf16.get(), f_sum.get(), f_mean.get(), f_rstd.get(), f_sum.get(),
        d_res.get(), d_w.get(), d_b.get(), n, c, kEps, spec);
    ASSERT_TRUE(s.ok()) << s.error;
    s = dropout_residual_layernorm_backward(f_dx.get(), f_dres.get(), f_dw.get(), f_db.get(),
                                            d_dout.get(), f_sum.get(), d_w.get(), f_mean.get(),
                                            f_rstd.get(), n, c, spec);
    ASSERT_TRUE(s.ok()) << s.error;

    dropout_forward(u_sum.get(), u_sum.get(), n * c, spec);
    residual_forward(u_sum.get(), u_sum.get(), d_res.get(), n * c);
    layernorm_forward(u_out.get(), u_mean.get(), u_rstd.get(), u_sum.get(), d_w.get(), d_b.get(),
                      n, c, kEps);
    float_to_bf16(u_bf16.get(), u_out.get(), n * c);
    layernorm_backward(u_dsum.get(), u_dw.get(), u_db.get(), d_dout.get(), u_sum.get(), d_w.get(),
                       u_mean.get(), u_rstd.get(), n, c);
    accumulate(u_dres.get(), u_dsum.get(), n * c);
    dropout_backward(u_dx.get(), u_dsum.get(), n * c, spec);
  }
#endif
  EXPECT_EQ(Compare(f_sum.Download(), u_sum.Download(), kExact, 1.0), "") << "sum";
  EXPECT_EQ(Compare(f_out.Download(), u_out.Download(), kExact, 1.0), "") << "out";
  EXPECT_EQ(Compare(Widen(f_bf16.Download()), Widen(u_bf16.Download()), kExact, 1.0), "")
      << "out_bf16";
  EXPECT_EQ(Compare(f_mean.Download(), u_mean.Download(), kExact, 1.0), "") << "mean";
  EXPECT_EQ(Compare(f_rstd.Download(), u_rstd.Download(), kExact, 1.0), "") << "rstd";
  EXPECT_EQ(Compare(f_dx.Download(), u_dx.Download(), kExact, 1.0), "") << "dx";
  EXPECT_EQ(Compare(f_dres.Download(), u_dres.Download(), kExact, 1.0), "") << "dresidual";
  EXPECT_EQ(Compare(f_dw.Download(), u_dw.Download(), kExact, 1.0), "") << "dweight";
  EXPECT_EQ(Compare(f_db.Download(), u_db.Download(), kExact, 1.0), "") << "dbias";
}

INSTANTIATE_TEST_SUITE_P(Cases, ResidualLayernormCudaTest,
                         ::testing::ValuesIn(testing::kResidualLayernormCases),
                         testing::ResidualLayernormCaseName);

// The argument checks run on the host before any launch, so they are tested wherever CUDA
// code is built, GPU or not.
TEST(ResidualLayernormArgumentsTest, RefusesWhatItCannotDo) {
#ifdef CLOZE_CUDA_BUILT
  float* p = reinterpret_cast<float*>(uintptr_t{256});  // never dereferenced
  float* q = p + 1024;
  const DropoutSpec none;
  DeviceStatus s = dropout_residual_layernorm_forward(q, nullptr, p, p, p, p, p, p, p, 4,
                                                      kResidualLayernormMaxColumns + 1, 1e-5f, none);
  EXPECT_NE(s.error.find("exceeds"), std::string::npos) << s.error;
  s = dropout_residual_layernorm_forward(p, nullptr, p, p, p, p, p, p, p, 4, 8, 1e-5f, none);
  EXPECT_NE(s.error.find("alias"), std::string::npos) << s.error;
  s = dropout_residual_layernorm_backward(p, p, q, q, q, q, q, q, q, 4, 8, none);
  EXPECT_NE(s.error.find("alias"), std::string::npos) << s.error;
  // Empty shapes do nothing and succeed.
  EXPECT_TRUE(dropout_residual_layernorm_forward(q, nullptr, p, p, p, p, p, p, p, 0, 8, 1e-5f,
                                                 none).ok());
  EXPECT_TRUE(dropout_residual_layernorm_backward(p, q, q, q, q, q, q, q, q, 4, 0, none).ok());
#else
  GTEST_SKIP() << "CUDA code is not built";
#endif
}

}  // namespace
}  // namespace cloze::cuda
