// The CUDA input embedding against its CPU twin on fresh random data. Skips, with the
// reason, where CUDA code is not built or no usable GPU is present.
#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cuda/embedding.h"
#include "kernels/cuda/testing/cuda_test_support.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::CompareScaled;
using testing::DeviceBuffer;
using testing::Gaussian;
using testing::UniformInts;

// fp32 limits. Forward is the CPU's two additions in the CPU's order: exact (limit 0).
// Backward sums up to b·t rows per vocabulary row with atomicAdd in arrival order; for the
// 1024-row sums here that moves the result by ~sqrt(rows) ulp of its RMS, so 1e-5 of the
// RMS is 10x the noise while a lost or doubled row errs by >1e-2.
constexpr double kBackwardLimit = 1e-5;

struct Shape {
  int64_t b, t, c, vocab, positions, types;
};

// Odd sizes throughout, then ALBERT's vocabulary and embedding width at a real batch.
const Shape kShapes[] = {{2, 5, 7, 11, 9, 2}, {8, 128, 128, 30000, 512, 2}, {3, 33, 65, 40, 64, 3}};

class EmbeddingCudaTest : public ::testing::TestWithParam<Shape> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

struct Ids {
  std::vector<int32_t> ids, type_ids;
};

// Word ids drawn from a small range, so rows repeat and backward must sum them.
Ids RandomIds(std::mt19937_64& rng, const Shape& s) {
  return {UniformInts(rng, s.b * s.t, 0, std::min<int32_t>(s.vocab, 50) - 1),
          UniformInts(rng, s.b * s.t, 0, s.types - 1)};
}

TEST_P(EmbeddingCudaTest, ForwardMatchesCpuExactly) {
  const Shape s = GetParam();
  std::mt19937_64 rng(700 + s.b * s.t * s.c);
  const Ids ids = RandomIds(rng, s);
  const std::vector<float> word = Gaussian(rng, s.vocab * s.c),
                           position = Gaussian(rng, s.positions * s.c),
                           type = Gaussian(rng, s.types * s.c);
  std::vector<float> want(s.b * s.t * s.c);
  cpu::embedding_forward(want.data(), ids.ids.data(), ids.type_ids.data(), word.data(),
                         position.data(), type.data(), s.b, s.t, s.c);

  DeviceBuffer<float> d_word(word), d_position(position), d_type(type), d_out(want.size());
  DeviceBuffer<int32_t> d_ids(ids.ids), d_type_ids(ids.type_ids);
  d_out.Poison();
  CLOZE_IF_CUDA_BUILT(embedding_forward(d_out.get(), d_ids.get(), d_type_ids.get(), d_word.get(),
                                        d_position.get(), d_type.get(), s.b, s.t, s.c));
  EXPECT_EQ(Compare(d_out.Download(), want, 0.0, 1.0), "");
}

// Backward ADDS: the gradients start from the same random values on both sides.
TEST_P(EmbeddingCudaTest, BackwardAccumulatesLikeCpu) {
  const Shape s = GetParam();
  std::mt19937_64 rng(800 + s.b * s.t * s.c);
  const Ids ids = RandomIds(rng, s);
  const std::vector<float> dout = Gaussian(rng, s.b * s.t * s.c);
  std::vector<float> want_word = Gaussian(rng, s.vocab * s.c),
                     want_position = Gaussian(rng, s.positions * s.c),
                     want_type = Gaussian(rng, s.types * s.c);
  DeviceBuffer<float> d_dout(dout), d_word(want_word), d_position(want_position),
      d_type(want_type);
  DeviceBuffer<int32_t> d_ids(ids.ids), d_type_ids(ids.type_ids);
  cpu::embedding_backward(want_word.data(), want_position.data(), want_type.data(), dout.data(),
                          ids.ids.data(), ids.type_ids.data(), s.b, s.t, s.c, /*padding_id=*/0);

  CLOZE_IF_CUDA_BUILT(embedding_backward(d_word.get(), d_position.get(), d_type.get(),
                                         d_dout.get(), d_ids.get(), d_type_ids.get(), s.b, s.t,
                                         s.c, /*padding_id=*/0));
  EXPECT_EQ(CompareScaled(d_word.Download(), want_word, kBackwardLimit), "") << "dword";
  EXPECT_EQ(CompareScaled(d_position.Download(), want_position, kBackwardLimit), "")
      << "dposition";
  EXPECT_EQ(CompareScaled(d_type.Download(), want_type, kBackwardLimit), "") << "dtype";
}

INSTANTIATE_TEST_SUITE_P(Shapes, EmbeddingCudaTest, ::testing::ValuesIn(kShapes),
                         [](const ::testing::TestParamInfo<Shape>& info) {
                           const Shape& s = info.param;
                           return std::to_string(s.b) + "x" + std::to_string(s.t) + "x" +
                                  std::to_string(s.c);
                         });

}  // namespace
}  // namespace cloze::cuda
