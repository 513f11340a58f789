// The fused dropout + residual + layer norm replayed on the host
// (testing/residual_layernorm_emulation.h: the kernels' row sums, reduction tree and
// layernorm_rows.h's element functions) against the CPU composition it replaces
// (testing/residual_layernorm_reference.h). Runs everywhere, without CUDA: it is what checks
// the fused op's math, mask indexing and overwrite/add semantics on machines without a GPU.
//   double: the algorithm, to ~1e-12.
//   float:  the GPU's precision; sum bit for bit, the rest to 1e-5 of the tensor's RMS.
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/layernorm_rows.h"
#include "kernels/cuda/testing/compare.h"
#include "kernels/cuda/testing/residual_layernorm_cases.h"
#include "kernels/cuda/testing/residual_layernorm_emulation.h"
#include "kernels/cuda/testing/residual_layernorm_reference.h"

namespace cloze::cuda::testing {
namespace {

// Limits, as |got − want| / (|want| + RMS(want)). Double: only the order of the row sums
// separates the two. Float: the same, a few ulp of O(1) values (see kernels/cuda's layernorm
// test), and the backward's cancellation g − mean(g) − x̂·mean(g·x̂) magnifies them.
constexpr double kDoubleLimit = 1e-12;
constexpr double kFloatLimit = 1e-5;

// One case's inputs, outputs from the emulation and from the CPU composition.
template <typename T>
struct Outputs {
  std::vector<T> out, sum, mean, rstd, dx, dresidual, dweight, dbias;
};

template <typename T>
void RunBoth(const ResidualLayernormCase& k, Outputs<T>& emulated, Outputs<T>& reference,
             std::vector<Bf16>* out_bf16 = nullptr, uint64_t emulated_index_shift = 0) {
  const int64_t n = k.n, c = k.c;
  std::mt19937_64 rng(4000 + n * 13 + c);
  const std::vector<T> x = GaussianAs<T>(rng, n * c, 0.3, 2.0);
  const std::vector<T> residual = GaussianAs<T>(rng, n * c);
  const std::vector<T> w = GaussianAs<T>(rng, c, 1.0, 0.5), b = GaussianAs<T>(rng, c);
  const std::vector<T> dout = GaussianAs<T>(rng, n * c);
  const std::vector<T> prior_dresidual = GaussianAs<T>(rng, n * c);
  const std::vector<T> prior_dw = GaussianAs<T>(rng, c), prior_db = GaussianAs<T>(rng, c);
  const T eps = T(1e-12);
  const cpu::DropoutSpec spec = k.Dropout();
  cpu::DropoutSpec emulated_spec = spec;
  emulated_spec.first_index += emulated_index_shift;
  for (Outputs<T>* r : {&emulated, &reference}) {
    r->out.assign(n * c, T(NAN));
    r->sum.assign(n * c, T(NAN));
    r->mean.assign(n, T(NAN));
    r->rstd.assign(n, T(NAN));
    r->dx.assign(n * c, T(NAN));  // overwritten: the poison must not survive
    r->dresidual = prior_dresidual;
    r->dweight = prior_dw;
    r->dbias = prior_db;
  }
  if (out_bf16 != nullptr) out_bf16->assign(n * c, Bf16{0x7fc0});
  EmulatedForward(emulated.out.data(), out_bf16 == nullptr ? nullptr : out_bf16->data(),
                  emulated.sum.data(), emulated.mean.data(), emulated.rstd.data(), x.data(),
                  residual.data(), w.data(), b.data(), n, c, eps, emulated_spec);
  EmulatedBackward(emulated.dx.data(), emulated.dresidual.data(), emulated.dweight.data(),
                   emulated.dbias.data(), dout.data(), emulated.sum.data(), w.data(),
                   emulated.mean.data(), emulated.rstd.data(), n, c, emulated_spec);
  ReferenceForward(reference.out.data(), reference.sum.data(), reference.mean.data(),
                   reference.rstd.data(), x.data(), residual.data(), w.data(), b.data(), n, c, eps,
                   spec);
  ReferenceBackward(reference.dx.data(), reference.dresidual.data(), reference.dweight.data(),
                    reference.dbias.data(), dout.data(), reference.sum.data(), w.data(),
                    reference.mean.data(), reference.rstd.data(), n, c, spec);
}

template <typename T>
void ExpectClose(const Outputs<T>& got, const Outputs<T>& want, double limit) {
  EXPECT_EQ(CompareScaled(got.sum, want.sum, limit, "emulated"), "") << "sum";
  EXPECT_EQ(CompareScaled(got.out, want.out, limit, "emulated"), "") << "out";
  EXPECT_EQ(CompareScaled(got.mean, want.mean, limit, "emulated"), "") << "mean";
  EXPECT_EQ(CompareScaled(got.rstd, want.rstd, limit, "emulated"), "") << "rstd";
  EXPECT_EQ(CompareScaled(got.dx, want.dx, limit, "emulated"), "") << "dx";
  EXPECT_EQ(CompareScaled(got.dresidual, want.dresidual, limit, "emulated"), "") << "dresidual";
  EXPECT_EQ(CompareScaled(got.dweight, want.dweight, limit, "emulated"), "") << "dweight";
  EXPECT_EQ(CompareScaled(got.dbias, want.dbias, limit, "emulated"), "") << "dbias";
}

class ResidualLayernormEmulationTest : public ::testing::TestWithParam<ResidualLayernormCase> {};

TEST_P(ResidualLayernormEmulationTest, DoubleMatchesCpuComposition) {
  Outputs<double> emulated, reference;
  RunBoth(GetParam(), emulated, reference);
  ExpectClose(emulated, reference, kDoubleLimit);
}

TEST_P(ResidualLayernormEmulationTest, FloatMatchesCpuComposition) {
  Outputs<float> emulated, reference;
  std::vector<Bf16> out_bf16;
  RunBoth(GetParam(), emulated, reference, &out_bf16);
  ExpectClose(emulated, reference, kFloatLimit);
  // The element-wise steps round as the CPU's: sum is the CPU's bit for bit.
  EXPECT_EQ(CompareScaled(emulated.sum, reference.sum, 0.0, "emulated"), "") << "sum, exactly";
  // out_bf16 is out rounded to nearest even, so within 2^-8 of the CPU's out.
  std::vector<float> widened(out_bf16.size());
  for (size_t i = 0; i < out_bf16.size(); ++i) widened[i] = from_bf16(out_bf16[i]);
  EXPECT_EQ(CompareScaled(widened, reference.out, 1.0 / 256, "emulated"), "") << "out_bf16";
}

// A check that cannot fail is a defect: the mask of the neighbouring element (first_index
// off by one) must be seen, in sum and in dx.
TEST_P(ResidualLayernormEmulationTest, ShiftedMaskIsCaught) {
  if (GetParam().p == 0.0f) GTEST_SKIP() << "no mask without dropout";
  Outputs<float> emulated, reference;
  RunBoth(GetParam(), emulated, reference, nullptr, /*emulated_index_shift=*/1);
  EXPECT_NE(CompareScaled(emulated.sum, reference.sum, kFloatLimit, "emulated"), "");
  EXPECT_NE(CompareScaled(emulated.dx, reference.dx, kFloatLimit, "emulated"), "");
}

INSTANTIATE_TEST_SUITE_P(Cases, ResidualLayernormEmulationTest,
                         ::testing::ValuesIn(kResidualLayernormCases), ResidualLayernormCaseName);

// The replayed reduction adds every partial once: exact on small integers, whatever the tree.
TEST(EmulatedBlockSumTest, SumsEveryThreadOnce) {
  std::array<float, kRowThreads> partials;
  for (int t = 0; t < kRowThreads; ++t) partials[t] = float(t + 1);
  EXPECT_EQ(EmulatedBlockSum(partials), float(kRowThreads * (kRowThreads + 1) / 2));
  EXPECT_EQ(EmulatedRowSum<double>(1029, [](int64_t i) { return double(i); }), 1028.0 * 1029 / 2);
}

// The tree's order shows in float: it is not the sequential loop's (which is why the GPU and
// the CPU differ in the last bits of mean and rstd, and the emulation must replay the tree).
TEST(EmulatedBlockSumTest, RoundsAsATreeNotALoop) {
  std::array<float, kRowThreads> partials;
  partials.fill(0.0f);
  partials[0] = 1.0f;
  // Each under half an ulp of 1, so lost when added to 1 alone; lanes 1 and 3 meet first.
  partials[1] = 4e-8f;
  partials[2] = 4e-8f;
  partials[3] = 4e-8f;
  float loop = 0.0f;
  for (float p : partials) loop += p;
  EXPECT_EQ(loop, 1.0f);
  EXPECT_GT(EmulatedBlockSum(partials), 1.0f);
}

// The mask is cpu::dropout_keeps's for every flat index, first_index included, and a kept
// element is scaled exactly as cpu::dropout_forward scales it.
TEST(RowDropoutTest, MatchesCpuMaskAndScale) {
  const cpu::DropoutSpec spec{.p = 0.3f, .seed = 99, .stream = 5, .first_index = 1001};
  const layernorm_rows::RowDropout dropout = layernorm_rows::row_dropout(spec);
  int64_t dropped = 0;
  for (uint64_t i = 0; i < 4096; ++i) {
    ASSERT_EQ(dropout.keeps(i), cpu::dropout_keeps(spec, i)) << i;
    dropped += !dropout.keeps(i);
  }
  EXPECT_NEAR(dropped / 4096.0, 0.3, 0.05);
  EXPECT_EQ(dropout.scale, cpu::dropout_scale(spec));
  const layernorm_rows::RowDropout none = layernorm_rows::row_dropout({});
  EXPECT_FALSE(none.active);
  EXPECT_TRUE(none.keeps(12345));
  EXPECT_EQ(layernorm_rows::dropped_plus_residual(3.0f, 0.5f, none, true), 3.5f);
  EXPECT_EQ(layernorm_rows::dropout_grad(-2.0f, none, true), -2.0f);
  EXPECT_EQ(layernorm_rows::dropped_plus_residual(3.0f, 0.5f, dropout, false), 0.5f);
  EXPECT_EQ(layernorm_rows::dropout_grad(-2.0f, dropout, false), 0.0f);
}

}  // namespace
}  // namespace cloze::cuda::testing
