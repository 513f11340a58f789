// The BLAS paths (what the model runs) against the plain-loop reference ops, in float,
// at sizes where BLAS blocking and OpenMP splitting actually happen.
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"

namespace cloze::cpu {
namespace {

std::vector<float> Random(std::mt19937& rng, size_t n) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

// Poisoned output: any element the op forgets to write stays NaN and fails the check.
std::vector<float> Poisoned(size_t n) { return std::vector<float>(n, std::numeric_limits<float>::quiet_NaN()); }

double RelativeError(const std::vector<float>& a, const std::vector<float>& b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    norm += double(b[i]) * b[i];
  }
  return std::sqrt(diff / norm);  // NaN (and a failed EXPECT) if anything is NaN
}

TEST(FastVsReference, Matmul) {
  std::mt19937 rng(1);
  const int64_t n = 130, c = 96, oc = 200;
  const auto x = Random(rng, n * c), w = Random(rng, oc * c), b = Random(rng, oc), dy = Random(rng, n * oc);
  auto y_fast = Poisoned(n * oc), y_ref = Poisoned(n * oc);
  matmul_forward(y_fast.data(), x.data(), w.data(), b.data(), n, c, oc);
  matmul_forward_reference(y_ref.data(), x.data(), w.data(), b.data(), n, c, oc);
  EXPECT_LT(RelativeError(y_fast, y_ref), 1e-6);

  // Backward accumulates: start both from the same non-zero gradients.
  auto dx_fast = Random(rng, n * c), dw_fast = Random(rng, oc * c), db_fast = Random(rng, oc);
  auto dx_ref = dx_fast, dw_ref = dw_fast, db_ref = db_fast;
  matmul_backward(dx_fast.data(), dw_fast.data(), db_fast.data(), dy.data(), x.data(), w.data(), n, c, oc);
  matmul_backward_reference(dx_ref.data(), dw_ref.data(), db_ref.data(), dy.data(), x.data(), w.data(), n, c, oc);
  EXPECT_LT(RelativeError(dx_fast, dx_ref), 1e-6);
  EXPECT_LT(RelativeError(dw_fast, dw_ref), 1e-6);
  EXPECT_LT(RelativeError(db_fast, db_ref), 1e-6);
}

void CompareAttention(float dropout_p) {
  std::mt19937 rng(2);
  const AttentionShape shape{.batch = 3, .seq = 37, .hidden = 48, .heads = 4};
  const int64_t n = shape.batch * shape.seq;
  std::vector<int32_t> mask(n, 1);
  for (int64_t t = 30; t < shape.seq; ++t) mask[shape.seq + t] = 0;  // example 1 is padded
  const DropoutSpec dropout{.p = dropout_p, .seed = 42, .stream = 7};
  const auto qkv = Random(rng, n * 3 * shape.hidden), dout = Random(rng, n * shape.hidden);
  const size_t probs_size = shape.batch * shape.heads * shape.seq * shape.seq;
  auto out_fast = Poisoned(n * shape.hidden), out_ref = Poisoned(n * shape.hidden);
  auto probs_fast = Poisoned(probs_size), probs_ref = Poisoned(probs_size);
  attention_forward(out_fast.data(), probs_fast.data(), qkv.data(), mask.data(), shape, dropout);
  attention_forward_reference(out_ref.data(), probs_ref.data(), qkv.data(), mask.data(), shape, dropout);
  EXPECT_LT(RelativeError(out_fast, out_ref), 1e-5);
  EXPECT_LT(RelativeError(probs_fast, probs_ref), 1e-5);

  auto dqkv_fast = Random(rng, qkv.size());
  auto dqkv_ref = dqkv_fast;
  attention_backward(dqkv_fast.data(), dout.data(), qkv.data(), probs_fast.data(), shape, dropout);
  attention_backward_reference(dqkv_ref.data(), dout.data(), qkv.data(), probs_ref.data(), shape, dropout);
  EXPECT_LT(RelativeError(dqkv_fast, dqkv_ref), 1e-5);
}

TEST(FastVsReference, Attention) { CompareAttention(0.0f); }
TEST(FastVsReference, AttentionWithDropout) { CompareAttention(0.1f); }

TEST(FastVsReference, PaddedKeysGetNoProbability) {
  std::mt19937 rng(3);
  const AttentionShape shape{.batch = 1, .seq = 6, .hidden = 8, .heads = 2};
  const std::vector<int32_t> mask = {1, 1, 1, 0, 0, 1};
  const auto qkv = Random(rng, shape.seq * 3 * shape.hidden);
  std::vector<float> out(shape.seq * shape.hidden), probs(shape.heads * shape.seq * shape.seq);
  attention_forward(out.data(), probs.data(), qkv.data(), mask.data(), shape, DropoutSpec{});
  for (int64_t row = 0; row < shape.heads * shape.seq; ++row) {
    double sum = 0;
    for (int64_t j = 0; j < shape.seq; ++j) {
      const float p = probs[row * shape.seq + j];
      if (mask[j] == 0) {
        EXPECT_EQ(p, 0.0f);
      }
      sum += p;
    }
    EXPECT_NEAR(sum, 1.0, 1e-6);
  }
}

}  // namespace
}  // namespace cloze::cpu
