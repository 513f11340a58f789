// The CUDA softmax cross-entropy and row gather (the MLM head's two data-dependent ops)
// against their CPU twins on fresh random data. Skips, with the reason, where CUDA code is
// not built or no usable GPU is present.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/gather.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/gather.h"
#include "kernels/cuda/testing/cuda_test_support.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::DeviceBuffer;
using testing::Gaussian;
using testing::UniformInts;

// fp32 limits. probs: each is exp(z − max)/Σ; expf and exp are within 2 ulp and the tree
// sum differs from the CPU's sequential one by ~log2(v) ulp, so 1e-5 relative (floor 1e-30:
// tiny probabilities count fully) is 10x the noise while a wrong max or sum errs by >1e-3.
// losses: log Σ + max − z, absolute in nats where the terms cancel (floor 1): 1e-5.
// dlogits: the same two float operations as the CPU; FMA contraction moves the last bit,
// so 1e-6 (floor 1; gradients are O(1)).
constexpr double kProbsLimit = 1e-5;
constexpr double kLossLimit = 1e-5;
constexpr double kGradLimit = 1e-6;
constexpr int32_t kIgnored = -100;  // Hugging Face's ignore index

struct Shape {
  int64_t m, v;
};

// 7 classes (a partial warp), ALBERT's 30000 and BERT's 30522 (threads stride over a row),
// and a two-class sentence-order head with many rows.
const Shape kShapes[] = {{5, 7}, {37, 30000}, {3, 30522}, {1001, 2}};

class CrossEntropyCudaTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

std::vector<int32_t> RandomLabels(std::mt19937_64& rng, int64_t m, int64_t v) {
  std::vector<int32_t> labels = UniformInts(rng, m, 0, v - 1);
  for (int64_t r = 0; r < m; r += 3) labels[r] = kIgnored;  // every third row ignored
  return labels;
}

TEST_P(CrossEntropyCudaTest, ForwardMatchesCpu) {
  const auto [m, v] = GetParam();
  std::mt19937_64 rng(300 + m * 13 + v);
  const std::vector<float> logits = Gaussian(rng, m * v, 3.0f);
  const std::vector<int32_t> labels = RandomLabels(rng, m, v);
  std::vector<float> want_losses(m), want_probs(m * v);
  cpu::softmax_cross_entropy_forward(want_losses.data(), want_probs.data(), logits.data(),
                                     labels.data(), m, v);

  DeviceBuffer<float> d_logits(logits), d_losses(m), d_probs(m * v);
  DeviceBuffer<int32_t> d_labels(labels);
  d_losses.Poison();
  d_probs.Poison();
  CLOZE_IF_CUDA_BUILT(softmax_cross_entropy_forward(d_losses.get(), d_probs.get(), d_logits.get(),
                                                    d_labels.get(), m, v));
  EXPECT_EQ(Compare(d_probs.Download(), want_probs, kProbsLimit, 1e-30), "") << "probs";
  const std::vector<float> losses = d_losses.Download();
  EXPECT_EQ(Compare(losses, want_losses, kLossLimit, 1.0), "") << "losses";
  for (int64_t r = 0; r < m; ++r) {
    if (labels[r] < 0) {
      EXPECT_EQ(losses[r], 0.0f) << "ignored row " << r;
    }
  }
}

// Backward ADDS: dlogits starts from the same random values on both sides (the poison's
// part: a skipped element keeps a wrong value); ignored rows must stay exactly as they were.
TEST_P(CrossEntropyCudaTest, BackwardAccumulatesLikeCpu) {
  const auto [m, v] = GetParam();
  std::mt19937_64 rng(400 + m * 13 + v);
  const std::vector<float> logits = Gaussian(rng, m * v, 3.0f);
  const std::vector<int32_t> labels = RandomLabels(rng, m, v);
  std::vector<float> losses(m), probs(m * v);
  cpu::softmax_cross_entropy_forward(losses.data(), probs.data(), logits.data(), labels.data(), m,
                                     v);
  const std::vector<float> prior = Gaussian(rng, m * v);
  std::vector<float> want = prior;
  const float scale = 1.0f / 3.0f;
  cpu::softmax_cross_entropy_backward(want.data(), probs.data(), labels.data(), m, v, scale);

  DeviceBuffer<float> d_probs(probs), d_dlogits(prior);
  DeviceBuffer<int32_t> d_labels(labels);
  CLOZE_IF_CUDA_BUILT(softmax_cross_entropy_backward(d_dlogits.get(), d_probs.get(),
                                                     d_labels.get(), m, v, scale));
  const std::vector<float> got = d_dlogits.Download();
  EXPECT_EQ(Compare(got, want, kGradLimit, 1.0), "");
  for (int64_t r = 0; r < m; r += 3) {
    for (int64_t j = 0; j < v; ++j) ASSERT_EQ(got[r * v + j], prior[r * v + j]) << r << "," << j;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, CrossEntropyCudaTest, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           return std::to_string(info.param.m) + "x" +
                                  std::to_string(info.param.v);
                         });

struct GatherShape {
  int64_t source_rows, m, c;
};

// Odd widths; m > source_rows forces repeated rows, whose gradients must all arrive.
const GatherShape kGatherShapes[] = {{9, 5, 7}, {512, 77, 768}, {3, 40, 129}};

class GatherCudaTest : public ::testing::TestWithParam<GatherShape> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

// A copy: must be exact.
TEST_P(GatherCudaTest, ForwardCopiesTheSameRows) {
  const auto [source_rows, m, c] = GetParam();
  std::mt19937_64 rng(500 + m + c);
  const std::vector<float> inp = Gaussian(rng, source_rows * c);
  const std::vector<int32_t> rows = UniformInts(rng, m, 0, source_rows - 1);
  std::vector<float> want(m * c);
  cpu::gather_rows_forward(want.data(), inp.data(), rows.data(), m, c);

  DeviceBuffer<float> d_inp(inp), d_out(m * c);
  DeviceBuffer<int32_t> d_rows(rows);
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT(gather_rows_forward(d_out.get(), d_inp.get(), d_rows.get(), m, c));
  EXPECT_EQ(Compare(d_out.Download(), want, 0.0, 1.0), "");
}

// fp32 limit 1e-6 (floor 1): repeated rows are summed by atomicAdd in any order, a few ulp
// of the O(1) sums; a lost or doubled update errs by O(1).
TEST_P(GatherCudaTest, BackwardAccumulatesRepeatedRows) {
  const auto [source_rows, m, c] = GetParam();
  std::mt19937_64 rng(600 + m + c);
  const std::vector<float> dout = Gaussian(rng, m * c), prior = Gaussian(rng, source_rows * c);
  const std::vector<int32_t> rows = UniformInts(rng, m, 0, source_rows - 1);
  std::vector<float> want = prior;
  cpu::gather_rows_backward(want.data(), dout.data(), rows.data(), m, c);

  DeviceBuffer<float> d_dout(dout), d_dinp(prior);
  DeviceBuffer<int32_t> d_rows(rows);
  CLOZE_IF_CUDA_BUILT(gather_rows_backward(d_dinp.get(), d_dout.get(), d_rows.get(), m, c));
  EXPECT_EQ(Compare(d_dinp.Download(), want, 1e-6, 1.0), "");
}

INSTANTIATE_TEST_SUITE_P(Shapes, GatherCudaTest, ::testing::ValuesIn(kGatherShapes),
                         [](const ::testing::TestParamInfo<GatherShape>& info) {
                           return std::to_string(info.param.source_rows) + "_" +
                                  std::to_string(info.param.m) + "x" +
                                  std::to_string(info.param.c);
                         });

}  // namespace
}  // namespace cloze::cuda
