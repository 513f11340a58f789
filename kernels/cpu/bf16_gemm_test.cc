// gemm_bf16 against two oracles: the fp32 gemm within bf16's rounding bound, and a double
// product of the bf16-rounded inputs within fp32 accumulation error (which shows the inputs
// really are rounded to bf16, no more and no less).
#include "kernels/cpu/bf16_gemm.h"

#include <omp.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"

namespace cloze::cpu {
namespace {

struct Case {
  int64_t m, n, k;
  bool trans_a, trans_b;
  float alpha, beta;
  int64_t pad;  // leading dimensions exceed the stored widths by this much
};

struct Operands {
  std::vector<float> a, b, c;
  int64_t lda, ldb, ldc;
};

Operands MakeOperands(const Case& t, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  Operands o;
  const int64_t a_rows = t.trans_a ? t.k : t.m, a_cols = t.trans_a ? t.m : t.k;
  const int64_t b_rows = t.trans_b ? t.n : t.k, b_cols = t.trans_b ? t.k : t.n;
  o.lda = a_cols + t.pad;
  o.ldb = b_cols + t.pad;
  o.ldc = t.n + t.pad;
  o.a.resize(a_rows * o.lda);
  o.b.resize(b_rows * o.ldb);
  o.c.resize(t.m * o.ldc);
  for (float& x : o.a) x = uniform(rng);
  for (float& x : o.b) x = uniform(rng);
  // beta = 0 must not read C: NaN there would show.
  for (float& x : o.c) x = t.beta == 0.0f ? std::numeric_limits<float>::quiet_NaN() : uniform(rng);
  return o;
}

float At(const std::vector<float>& x, int64_t ld, bool trans, int64_t i, int64_t j) {
  return trans ? x[j * ld + i] : x[i * ld + j];
}

void ExpectMatchesOracles(const Case& t) {
  SCOPED_TRACE(testing::Message() << "m=" << t.m << " n=" << t.n << " k=" << t.k << " trans_a=" << t.trans_a
                                  << " trans_b=" << t.trans_b << " alpha=" << t.alpha << " beta=" << t.beta
                                  << " pad=" << t.pad);
  const Operands o = MakeOperands(t, static_cast<uint32_t>(t.m * 131 + t.n * 17 + t.k));
  std::vector<float> got = o.c, fp32 = o.c;
  gemm_bf16(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta,
            got.data(), o.ldc);
  gemm(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta, fp32.data(),
       o.ldc);
  int differ_from_fp32 = 0;
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < t.n; ++j) {
      double rounded = 0.0, magnitude = 0.0;
      for (int64_t x = 0; x < t.k; ++x) {
        const double a = At(o.a, o.lda, t.trans_a, i, x), b = At(o.b, o.ldb, t.trans_b, x, j);
        rounded += double{AsBf16ProductOperand(a)} * AsBf16ProductOperand(b);
        magnitude += std::abs(a * b);
      }
      const double c0 = t.beta == 0.0f ? 0.0 : double{t.beta} * o.c[i * o.ldc + j];
      const double scale = std::abs(t.alpha) * magnitude + std::abs(c0);
      const float value = got[i * o.ldc + j];
      ASSERT_TRUE(std::isfinite(value)) << "at (" << i << ", " << j << ")";
      // bf16 keeps 8 significant bits: each rounded input is within 2^-8 relative (half an
      // ulp), a product of two within 2^-7.
      EXPECT_NEAR(value, fp32[i * o.ldc + j], std::ldexp(1.0, -7) * scale + 1e-6) << "at (" << i << ", " << j << ")";
      // fp32 accumulation of k terms (and the alpha, beta steps): well within 1e-6 · k.
      EXPECT_NEAR(value, t.alpha * rounded + c0, 1e-6 * (t.k + 2) * scale + 1e-7) << "at (" << i << ", " << j << ")";
      differ_from_fp32 += value != fp32[i * o.ldc + j];
    }
    // Padding columns of C are never written.
    for (int64_t j = t.n; j < o.ldc; ++j) {
      const float before = o.c[i * o.ldc + j], after = got[i * o.ldc + j];
      EXPECT_TRUE(std::isnan(before) ? std::isnan(after) : before == after) << "padding at (" << i << ", " << j << ")";
    }
  }
  if (CpuHasBf16() && t.k >= 4 && t.m * t.n >= 16) {
    EXPECT_GT(differ_from_fp32, 0) << "bf16 rounding did not happen";
  }
}

TEST(Bf16Gemm, MatchesOraclesOnOddShapesTransposesBetasAndLeadingDimensions) {
  std::printf("CpuHasBf16: %d\n", CpuHasBf16());
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 5}, {33, 65, 129}, {128, 128, 64}, {100, 3, 257}, {64, 768, 96}};
  for (const auto& s : shapes) {
    for (int trans = 0; trans < 4; ++trans) {
      for (float beta : {0.0f, 1.0f, 0.5f}) {
        for (int64_t pad : {0, 3}) {
          ExpectMatchesOracles({s[0], s[1], s[2], (trans & 1) != 0, (trans & 2) != 0, beta == 0.5f ? 0.125f : 1.0f,
                                beta, pad});
        }
      }
    }
  }
}

TEST(Bf16Gemm, SameBitsInsideAParallelRegionAndAcrossCalls) {
  const Case t{48, 40, 72, false, true, 0.25f, 1.0f, 2};
  const Operands o = MakeOperands(t, 7);
  std::vector<float> serial = o.c;
  gemm_bf16(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta,
            serial.data(), o.ldc);
  constexpr int kCopies = 8;
  std::vector<std::vector<float>> parallel(kCopies, o.c);
#pragma omp parallel for num_threads(2)
  for (int i = 0; i < kCopies; ++i) {
    gemm_bf16(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta,
              parallel[i].data(), o.ldc);
  }
  for (int i = 0; i < kCopies; ++i) EXPECT_EQ(parallel[i], serial) << "copy " << i;
}

TEST(Bf16Gemm, PrecisionDispatch) {
  const Case t{9, 11, 13, true, false, 1.0f, 0.0f, 1};
  const Operands o = MakeOperands(t, 3);
  std::vector<float> fp32 = o.c, via_fp32 = o.c, bf16 = o.c, via_bf16 = o.c;
  gemm(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta, fp32.data(), o.ldc);
  gemm(Precision::kFp32, t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta,
       via_fp32.data(), o.ldc);
  gemm_bf16(t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta, bf16.data(),
            o.ldc);
  gemm(Precision::kBf16, t.trans_a, t.trans_b, t.m, t.n, t.k, t.alpha, o.a.data(), o.lda, o.b.data(), o.ldb, t.beta,
       via_bf16.data(), o.ldc);
  // NaN padding compares unequal to itself, so compare the written elements.
  for (int64_t i = 0; i < t.m; ++i) {
    for (int64_t j = 0; j < t.n; ++j) {
      EXPECT_EQ(via_fp32[i * o.ldc + j], fp32[i * o.ldc + j]);
      EXPECT_EQ(via_bf16[i * o.ldc + j], bf16[i * o.ldc + j]);
    }
  }
}

TEST(Bf16Gemm, RoundToBf16) {
  EXPECT_EQ(RoundToBf16(1.0f), 1.0f);
  EXPECT_EQ(RoundToBf16(1.0f + std::ldexp(1.0f, -8)), 1.0f);  // tie: to even
  EXPECT_EQ(RoundToBf16(1.0f + 3 * std::ldexp(1.0f, -8)), 1.0f + std::ldexp(1.0f, -6));  // tie: to even (up)
  EXPECT_EQ(RoundToBf16(1.0f + std::ldexp(1.0f, -7)), 1.0f + std::ldexp(1.0f, -7));  // exact
  EXPECT_TRUE(std::isnan(RoundToBf16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_EQ(RoundToBf16(std::numeric_limits<float>::denorm_min()), 0.0f);  // as vcvtneps2bf16
  EXPECT_TRUE(std::signbit(RoundToBf16(-std::numeric_limits<float>::denorm_min())));
  EXPECT_EQ(RoundToBf16(std::numeric_limits<float>::infinity()), std::numeric_limits<float>::infinity());
}

}  // namespace
}  // namespace cloze::cpu
