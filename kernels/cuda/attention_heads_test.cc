// Host checks of the unfused CUDA attention's indexing, run everywhere (no GPU needed):
//  - the per-(b, h) slice formulas (attention_heads.h) give the CPU's per-head addresses;
//  - the scratch layout's regions are disjoint, aligned and inside the total;
//  - a replay of attention.cu's batched products on the host (the same slices, leading
//    dimensions and column-major arguments, with a plain column-major GEMM in cuBLAS's
//    place) matches cpu::attention_forward/backward, so the orchestration is right apart
//    from cuBLAS and the kernels themselves;
//  - the same replay with the bf16 variant's rounding stays within the GPU test's bf16
//    limits (testing/attention_cases.h), so those limits are neither loose nor unreachable.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cuda/attention_heads.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/testing/attention_cases.h"
#include "kernels/cuda/testing/compare.h"

namespace cloze::cuda {
namespace {

using cpu::AttentionShape;
using testing::Added;
using testing::CompareScaled;
using testing::Gaussian;
using testing::PaddingMask;
using testing::SpecFor;

const AttentionShape kShapes[] = {
    {1, 1, 4, 2}, {2, 7, 12, 3}, {3, 33, 64, 4}, {8, 13, 32, 4}, {2, 128, 768, 12}};

TEST(AttentionHeadsTest, SlicesAreTheCpusPerHeadAddresses) {
  for (const AttentionShape& s : kShapes) {
    const int64_t d = s.head_dim();
    for (int64_t b = 0; b < s.batch; ++b) {
      for (int64_t h = 0; h < s.heads; ++h) {
        const int64_t i = b * s.heads + h;
        // kernels/cpu/attention.cc's head view: qkv + b·T·3C + h·D, K at +C, V at +2C;
        // out/dout + b·T·C + h·D; probs at ((b·NH + h)·T)·T.
        const int64_t qkv_head = b * s.seq * 3 * s.hidden + h * d;
        EXPECT_EQ(query_slices(s).offset(i), qkv_head);
        EXPECT_EQ(key_slices(s).offset(i), qkv_head + s.hidden);
        EXPECT_EQ(value_slices(s).offset(i), qkv_head + 2 * s.hidden);
        EXPECT_EQ(context_slices(s).offset(i), b * s.seq * s.hidden + h * d);
        EXPECT_EQ(score_slices(s).offset(i), (b * s.heads + h) * s.seq * s.seq);
      }
    }
    EXPECT_EQ(query_slices(s).ld, 3 * s.hidden);
    EXPECT_EQ(context_slices(s).ld, s.hidden);
    EXPECT_EQ(score_slices(s).ld, s.seq);
  }
}

TEST(AttentionHeadsTest, ScratchRegionsAreDisjointAlignedAndInside) {
  for (const AttentionShape& s : kShapes) {
    for (bool bf16 : {false, true}) {
      const AttentionScratchLayout l = attention_scratch_layout(s, bf16);
      const int64_t heads = s.batch * s.heads, probs = heads * s.seq * s.seq;
      const int64_t tokens = s.batch * s.seq;
      auto half = [](int64_t n) { return (n + 1) / 2; };
      struct Region {
        int64_t start, floats;
      };
      const std::vector<Region> regions = {
          {l.first, probs},
          {l.second, probs},
          {l.tables, kMaxHeadTables * heads * int64_t(sizeof(void*) / sizeof(float))},
          {l.qkv_bf16, bf16 ? half(tokens * 3 * s.hidden) : 0},
          {l.context_bf16, bf16 ? half(tokens * s.hidden) : 0},
          {l.probs_bf16, bf16 ? half(probs) : 0}};
      for (size_t r = 0; r < regions.size(); ++r) {
        EXPECT_EQ(regions[r].start % kScratchAlignFloats, 0) << r;
        EXPECT_LE(regions[r].start + regions[r].floats, l.total) << r;
        for (size_t o = r + 1; o < regions.size(); ++o) {
          EXPECT_LE(regions[r].start + regions[r].floats, regions[o].start) << r << " " << o;
        }
      }
      // The fp32 layout begins as it did before the tables: two probability-sized buffers.
      EXPECT_EQ(l.first, 0);
      EXPECT_GE(l.second, probs);
    }
  }
}

// BLAS's column-major GEMM, by its definition: C = alpha·op(A)·op(B) + beta·C, C (m, n).
void ColumnMajorGemmReference(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                              float alpha, const float* a, int64_t lda, const float* b,
                              int64_t ldb, float beta, float* c, int64_t ldc) {
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t i = 0; i < m; ++i) {
      double sum = 0;
      for (int64_t l = 0; l < k; ++l) {
        const float x = trans_a ? a[l + i * lda] : a[i + l * lda];
        const float y = trans_b ? b[j + l * ldb] : b[l + j * ldb];
        sum += double(x) * y;
      }
      float& out = c[i + j * ldc];
      out = float(alpha * sum + (beta == 0.0f ? 0.0 : double(beta) * out));
    }
  }
}

// attention.cu's batched_gemm with the reference in cuBLAS's place: every head i reads
// slice i of each operand (the addresses build_tables_kernel writes).
void BatchedGemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, const HeadSlices& as, const float* b, const HeadSlices& bs,
                 float beta, float* c, const HeadSlices& cs, int64_t heads) {
  const ColumnMajorGemm g = column_major_gemm(trans_a, trans_b, m, n, k);
  for (int64_t i = 0; i < heads; ++i) {
    ColumnMajorGemmReference(g.trans_first, g.trans_second, g.m, g.n, g.k, alpha,
                             b + bs.offset(i), bs.ld, a + as.offset(i), as.ld, beta,
                             c + cs.offset(i), cs.ld);
  }
}

// The operand as the products read it: x, or x rounded to bf16 (as float_to_bf16).
std::vector<float> Operand(std::vector<float> x, bool bf16) {
  if (bf16) {
    for (float& f : x) f = from_bf16(to_bf16(f));
  }
  return x;
}

// attention.cu's forward, step for step.
void ReplayForward(bool bf16, std::vector<float>& out, std::vector<float>& probs,
                   const std::vector<float>& qkv, const std::vector<int32_t>& mask,
                   const AttentionShape& s, const cpu::DropoutSpec& dropout) {
  const int64_t t = s.seq, d = s.head_dim(), heads = s.batch * s.heads;
  const float scale = 1.0f / std::sqrt(float(d));
  const std::vector<float> qkv_op = Operand(qkv, bf16);
  BatchedGemm(false, true, t, t, d, scale, qkv_op.data(), query_slices(s), qkv_op.data(),
              key_slices(s), 0.0f, probs.data(), score_slices(s), heads);
  for (int64_t b = 0; b < s.batch; ++b) {  // the grouped softmax: a sequence's rows, its mask
    float* p = probs.data() + b * s.heads * t * t;
    cpu::masked_softmax_forward(p, p, mask.data() + b * t, s.heads * t, t);
  }
  std::vector<float> dropped = probs;
  if (dropout.active()) {
    cpu::dropout_forward(dropped.data(), probs.data(), int64_t(probs.size()), dropout);
  }
  dropped = Operand(dropped, bf16);
  BatchedGemm(false, false, t, d, t, 1.0f, dropped.data(), score_slices(s), qkv_op.data(),
              value_slices(s), 0.0f, out.data(), context_slices(s), heads);
}

// attention.cu's backward, step for step; ADDS into dqkv.
void ReplayBackward(bool bf16, std::vector<float>& dqkv, const std::vector<float>& dout,
                    const std::vector<float>& qkv, const std::vector<float>& probs,
                    const AttentionShape& s, const cpu::DropoutSpec& dropout) {
  const int64_t t = s.seq, d = s.head_dim(), heads = s.batch * s.heads;
  const int64_t all = int64_t(probs.size());
  const float scale = 1.0f / std::sqrt(float(d));
  const std::vector<float> qkv_op = Operand(qkv, bf16), dout_op = Operand(dout, bf16);
  std::vector<float> dropped = probs;
  if (dropout.active()) cpu::dropout_forward(dropped.data(), probs.data(), all, dropout);
  dropped = Operand(dropped, bf16);
  std::vector<float> ddropped(all);
  BatchedGemm(false, true, t, t, d, 1.0f, dout_op.data(), context_slices(s), qkv_op.data(),
              value_slices(s), 0.0f, ddropped.data(), score_slices(s), heads);
  BatchedGemm(true, false, t, d, t, 1.0f, dropped.data(), score_slices(s), dout_op.data(),
              context_slices(s), 1.0f, dqkv.data(), value_slices(s), heads);
  std::vector<float> dprobs = ddropped;
  if (dropout.active()) {
    dprobs.assign(all, 0.0f);
    cpu::dropout_backward(dprobs.data(), ddropped.data(), all, dropout);
  }
  std::vector<float> dscores(all, 0.0f);
  cpu::masked_softmax_backward(dscores.data(), dprobs.data(), probs.data(), heads * t, t);
  dscores = Operand(dscores, bf16);
  BatchedGemm(false, false, t, d, t, scale, dscores.data(), score_slices(s), qkv_op.data(),
              key_slices(s), 1.0f, dqkv.data(), query_slices(s), heads);
  BatchedGemm(true, false, t, d, t, scale, dscores.data(), score_slices(s), qkv_op.data(),
              query_slices(s), 1.0f, dqkv.data(), key_slices(s), heads);
}

struct Case {
  AttentionShape shape;
  float dropout;
  bool bf16;
};

class AttentionReplayTest : public ::testing::TestWithParam<Case> {};

// fp32: the replay sums in double, the CPU in float through OpenBLAS; 1e-5 of the RMS is
// float rounding. bf16: the GPU test's limits (testing/attention_cases.h).
TEST_P(AttentionReplayTest, MatchesCpu) {
  const auto [s, p, bf16] = GetParam();
  const cpu::DropoutSpec dropout = SpecFor(p);
  std::mt19937_64 rng(3100 + s.batch * s.seq * s.hidden);
  const std::vector<float> qkv = Gaussian(rng, s.batch * s.seq * 3 * s.hidden);
  const std::vector<float> dout = Gaussian(rng, s.batch * s.seq * s.hidden);
  const std::vector<float> prior = Gaussian(rng, qkv.size());
  const std::vector<int32_t> mask = PaddingMask(s);
  const int64_t n_probs = s.batch * s.heads * s.seq * s.seq;

  std::vector<float> want_out(dout.size()), want_probs(n_probs), want_dqkv = prior;
  cpu::attention_forward(want_out.data(), want_probs.data(), qkv.data(), mask.data(), s, dropout);
  cpu::attention_backward(want_dqkv.data(), dout.data(), qkv.data(), want_probs.data(), s,
                          dropout);

  std::vector<float> out(dout.size(), NAN), probs(n_probs, NAN), dqkv = prior;
  ReplayForward(bf16, out, probs, qkv, mask, s, dropout);
  // Backward from the CPU's probabilities, as the GPU test does.
  ReplayBackward(bf16, dqkv, dout, qkv, want_probs, s, dropout);

  // The gradient alone, without the prior it was added to, so the limit is not diluted.
  const std::vector<float> got_grad = Added(dqkv, prior), want_grad = Added(want_dqkv, prior);
  const double element_limit = bf16 ? testing::kBf16ElementLimit : 1e-5;
  EXPECT_EQ(CompareScaled(probs, want_probs, element_limit), "") << "probs";
  EXPECT_EQ(CompareScaled(out, want_out, element_limit), "") << "out";
  EXPECT_EQ(CompareScaled(got_grad, want_grad, element_limit), "") << "dqkv";
  if (bf16) {
    EXPECT_LE(testing::RelativeRmsError(probs, want_probs), testing::kBf16RmsLimit) << "probs";
    EXPECT_LE(testing::RelativeRmsError(out, want_out), testing::kBf16RmsLimit) << "out";
    EXPECT_LE(testing::RelativeRmsError(got_grad, want_grad), testing::kBf16RmsLimit) << "dqkv";
  }
}

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const AttentionShape& s : kShapes) {
    for (float p : {0.0f, 0.1f}) {
      for (bool bf16 : {false, true}) cases.push_back({s, p, bf16});
    }
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Cases, AttentionReplayTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           const AttentionShape& s = info.param.shape;
                           return "b" + std::to_string(s.batch) + "_t" + std::to_string(s.seq) +
                                  "_c" + std::to_string(s.hidden) + "_h" +
                                  std::to_string(s.heads) + "_p" +
                                  std::to_string(int(info.param.dropout * 100)) +
                                  (info.param.bf16 ? "_bf16" : "_fp32");
                         });

}  // namespace
}  // namespace cloze::cuda
