// The packed ("varlen") attention layout (AttentionShape::row_begin) against the padded one
// on the same examples: outputs, probabilities and input gradients at the real tokens, with
// and without dropout (which must draw the padded twin's mask). The plain-loop reference
// agrees bit for bit (the padded sums only add exact zeros for the masked keys); the BLAS
// path to fp32 rounding (1e-6 relative RMS); the bf16 path within bf16 rounding (1e-2, as
// attention_bf16_test), where the CPU has it (elsewhere it is the fp32 path again).
#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cuda/testing/compare.h"

namespace cloze::cpu {
namespace {

using cuda::testing::Uniform;
using cuda::testing::RelativeRmsError;

enum class Path { kReference, kFp32, kBf16 };

struct PackedCase {
  Path path;
  float dropout;
};

class AttentionPackedTest : public testing::TestWithParam<PackedCase> {};

TEST_P(AttentionPackedTest, MatchesPaddedAtRealTokens) {
  const PackedCase c = GetParam();
  constexpr int64_t kBatch = 4, kSeq = 19, kHidden = 48, kHeads = 4;
  const std::vector<int32_t> lengths = {19, 6, 1, 13};
  std::vector<int32_t> row_begin = {0};
  for (int32_t l : lengths) row_begin.push_back(row_begin.back() + l);
  const AttentionShape padded{kBatch, kSeq, kHidden, kHeads};
  const AttentionShape packed{kBatch, kSeq, kHidden, kHeads, row_begin.data()};
  const int64_t n = kBatch * kSeq, real = packed.rows();
  ASSERT_EQ(real, 39);

  std::vector<int32_t> mask(n, 0);
  std::vector<int64_t> padded_row;  // of each packed row
  for (int64_t b = 0; b < kBatch; ++b) {
    for (int64_t t = 0; t < lengths[b]; ++t) {
      mask[b * kSeq + t] = 1;
      padded_row.push_back(b * kSeq + t);
    }
  }
  const std::vector<float> qkv = Uniform(n * 3 * kHidden, 3), dout = Uniform(n * kHidden, 4);
  auto pack = [&](const std::vector<float>& rows, int64_t width) {
    std::vector<float> out;
    for (int64_t r : padded_row) out.insert(out.end(), rows.begin() + r * width, rows.begin() + (r + 1) * width);
    return out;
  };
  const DropoutSpec dropout{c.dropout, 7, 3, 5 * kHeads * kSeq * kSeq};

  auto forward = [&](float* out, float* probs, const float* x, const AttentionShape& s) {
    if (c.path == Path::kReference) return attention_forward_reference(out, probs, x, mask.data(), s, dropout);
    attention_forward(out, probs, x, mask.data(), s, dropout, c.path == Path::kBf16 ? Precision::kBf16 : Precision::kFp32);
  };
  auto backward = [&](float* dqkv, const float* g, const float* x, const float* probs, const AttentionShape& s) {
    if (c.path == Path::kReference) return attention_backward_reference(dqkv, g, x, probs, s, dropout);
    attention_backward(dqkv, g, x, probs, s, dropout, c.path == Path::kBf16 ? Precision::kBf16 : Precision::kFp32);
  };

  std::vector<float> want_out(n * kHidden), want_probs(kBatch * kHeads * kSeq * kSeq), want_dqkv(n * 3 * kHidden, 0.0f);
  forward(want_out.data(), want_probs.data(), qkv.data(), padded);
  // The gradient at the pad queries' outputs is zero, as the encoder's padded layout has it.
  std::vector<float> dout_zero_pads = dout;
  for (int64_t i = 0; i < n; ++i) {
    if (mask[i] == 0) std::fill(dout_zero_pads.begin() + i * kHidden, dout_zero_pads.begin() + (i + 1) * kHidden, 0.0f);
  }
  backward(want_dqkv.data(), dout_zero_pads.data(), qkv.data(), want_probs.data(), padded);

  const std::vector<float> packed_qkv = pack(qkv, 3 * kHidden), packed_dout = pack(dout, kHidden);
  std::vector<float> got_out(real * kHidden), got_probs(packed.probs_first(kBatch)), got_dqkv(real * 3 * kHidden, 0.0f);
  forward(got_out.data(), got_probs.data(), packed_qkv.data(), packed);
  backward(got_dqkv.data(), packed_dout.data(), packed_qkv.data(), got_probs.data(), packed);

  // Each head's probabilities: the first L rows and columns of its padded T x T block.
  std::vector<float> want_real_probs;
  for (int64_t b = 0; b < kBatch; ++b) {
    for (int64_t h = 0; h < kHeads; ++h) {
      for (int64_t i = 0; i < lengths[b]; ++i) {
        const float* row = want_probs.data() + ((b * kHeads + h) * kSeq + i) * kSeq;
        want_real_probs.insert(want_real_probs.end(), row, row + lengths[b]);
      }
    }
  }
  const double limit = c.path == Path::kReference ? 0.0 : c.path == Path::kFp32 || !CpuHasBf16() ? 1e-6 : 1e-2;
  EXPECT_LE(RelativeRmsError(got_out, pack(want_out, kHidden)), limit);
  EXPECT_LE(RelativeRmsError(got_probs, want_real_probs), limit);
  EXPECT_LE(RelativeRmsError(got_dqkv, pack(want_dqkv, 3 * kHidden)), limit);
}

INSTANTIATE_TEST_SUITE_P(Paths, AttentionPackedTest,
                         testing::Values(PackedCase{Path::kReference, 0.0f}, PackedCase{Path::kReference, 0.25f},
                                         PackedCase{Path::kFp32, 0.0f}, PackedCase{Path::kFp32, 0.25f},
                                         PackedCase{Path::kBf16, 0.0f}, PackedCase{Path::kBf16, 0.25f}));

}  // namespace
}  // namespace cloze::cpu
