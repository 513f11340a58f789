// Every CPU op's backward against central finite differences, in double precision.
#include <algorithm>
#include <random>

#include "gtest/gtest.h"
#include "kernels/cpu/activations.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/gather.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/residual.h"
#include "kernels/cpu/squared_error.h"
#include "kernels/testing/gradient_check.h"

namespace cloze::cpu {
namespace {

using testing::GradientCheck;
using testing::RandomVector;
using testing::RunGradientCheck;
using testing::Vector;

void Zero(Vector& v) { std::fill(v.begin(), v.end(), 0.0); }

#define EXPECT_GRADIENTS_MATCH(check, seed)                              \
  do {                                                                    \
    for (const std::string& failure : RunGradientCheck(check, seed)) {   \
      ADD_FAILURE() << failure;                                           \
    }                                                                     \
  } while (0)

void CheckElementwise(void (*forward)(double*, const double*, int64_t),
                      void (*backward)(double*, const double*, const double*, int64_t),
                      bool backward_reads_output, double lo, double hi) {
  std::mt19937_64 rng(7);
  const int64_t n = 257;
  Vector x = RandomVector(rng, n, lo, hi), dx(n), y(n);
  GradientCheck check;
  check.inputs = {{"x", &x, &dx}};
  check.forward = [&] {
    forward(y.data(), x.data(), n);
    return y;
  };
  check.backward = [&](const Vector& dy) {
    Zero(dx);
    forward(y.data(), x.data(), n);
    backward(dx.data(), backward_reads_output ? y.data() : x.data(), dy.data(), n);
  };
  EXPECT_GRADIENTS_MATCH(check, 1);
}

TEST(OpsGradient, GeluErf) { CheckElementwise(gelu_erf_forward, gelu_erf_backward, false, -4, 4); }
TEST(OpsGradient, GeluTanh) {
  CheckElementwise(gelu_tanh_forward, gelu_tanh_backward, false, -4, 4);
}
TEST(OpsGradient, Relu) { CheckElementwise(relu_forward, relu_backward, false, -2, 2); }
TEST(OpsGradient, Tanh) { CheckElementwise(tanh_forward, tanh_backward, true, -3, 3); }

template <bool kReference>
void CheckMatmul(bool with_bias) {
  std::mt19937_64 rng(11);
  const int64_t n = 5, c = 7, oc = 6;
  Vector x = RandomVector(rng, n * c), w = RandomVector(rng, oc * c), b = RandomVector(rng, oc);
  Vector dx(n * c), dw(oc * c), db(oc), y(n * oc);
  GradientCheck check;
  check.inputs = {{"x", &x, &dx}, {"weight", &w, &dw}};
  if (with_bias) check.inputs.push_back({"bias", &b, &db});
  const double* bias = with_bias ? b.data() : nullptr;
  check.forward = [&] {
    if (kReference) {
      matmul_forward_reference(y.data(), x.data(), w.data(), bias, n, c, oc);
    } else {
      matmul_forward(y.data(), x.data(), w.data(), bias, n, c, oc);
    }
    return y;
  };
  check.backward = [&](const Vector& dy) {
    Zero(dx), Zero(dw), Zero(db);
    double* dbias = with_bias ? db.data() : nullptr;
    if (kReference) {
      matmul_backward_reference(dx.data(), dw.data(), dbias, dy.data(), x.data(), w.data(), n, c, oc);
    } else {
      matmul_backward(dx.data(), dw.data(), dbias, dy.data(), x.data(), w.data(), n, c, oc);
    }
  };
  EXPECT_GRADIENTS_MATCH(check, 2);
}

TEST(OpsGradient, MatmulReference) { CheckMatmul<true>(true); }
TEST(OpsGradient, MatmulReferenceNoBias) { CheckMatmul<true>(false); }
TEST(OpsGradient, MatmulBlas) { CheckMatmul<false>(true); }
TEST(OpsGradient, MatmulBlasNoBias) { CheckMatmul<false>(false); }

TEST(OpsGradient, Bias) {
  std::mt19937_64 rng(12);
  const int64_t n = 4, c = 70;  // c > one column block
  Vector x = RandomVector(rng, n * c), b = RandomVector(rng, c), dx(n * c), db(c), y;
  GradientCheck check;
  check.inputs = {{"bias", &b, &db}};
  check.forward = [&] {
    y = x;
    bias_forward(y.data(), b.data(), n, c);
    return y;
  };
  check.backward = [&](const Vector& dy) {
    Zero(db);
    bias_backward(db.data(), dy.data(), n, c);
  };
  EXPECT_GRADIENTS_MATCH(check, 3);
}

TEST(OpsGradient, LayerNorm) {
  std::mt19937_64 rng(13);
  const int64_t n = 6, c = 67;
  Vector x = RandomVector(rng, n * c, -2, 2), w = RandomVector(rng, c, 0.5, 1.5),
         b = RandomVector(rng, c);
  Vector dx(n * c), dw(c), db(c), y(n * c), mean(n), rstd(n);
  GradientCheck check;
  check.inputs = {{"x", &x, &dx}, {"weight", &w, &dw}, {"bias", &b, &db}};
  check.forward = [&] {
    layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), n, c, 1e-12);
    return y;
  };
  check.backward = [&](const Vector& dy) {
    Zero(dx), Zero(dw), Zero(db);
    layernorm_forward(y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), n, c, 1e-12);
    layernorm_backward(dx.data(), dw.data(), db.data(), dy.data(), x.data(), w.data(), mean.data(),
                       rstd.data(), n, c);
  };
  EXPECT_GRADIENTS_MATCH(check, 4);
}

TEST(OpsGradient, MaskedSoftmax) {
  std::mt19937_64 rng(14);
  const int64_t rows = 3, t = 9;
  const std::vector<int32_t> mask = {1, 1, 0, 1, 1, 1, 0, 0, 1};
  Vector s = RandomVector(rng, rows * t, -3, 3), ds(rows * t), p(rows * t);
  GradientCheck check;
  check.inputs = {{"scores", &s, &ds}};
  check.forward = [&] {
    masked_softmax_forward(p.data(), s.data(), mask.data(), rows, t);
    return p;
  };
  check.backward = [&](const Vector& dp) {
    Zero(ds);
    masked_softmax_forward(p.data(), s.data(), mask.data(), rows, t);
    masked_softmax_backward(ds.data(), dp.data(), p.data(), rows, t);
  };
  EXPECT_GRADIENTS_MATCH(check, 5);
}

template <bool kReference>
void CheckAttention(float dropout_p) {
  std::mt19937_64 rng(15);
  const AttentionShape shape{.batch = 2, .seq = 5, .hidden = 8, .heads = 2};
  const std::vector<int32_t> mask = {1, 1, 1, 1, 0, 1, 1, 1, 1, 1};
  const DropoutSpec dropout{.p = dropout_p, .seed = 99, .stream = 3};
  const int64_t n = shape.batch * shape.seq;
  Vector qkv = RandomVector(rng, n * 3 * shape.hidden), dqkv(qkv.size()), out(n * shape.hidden);
  Vector probs(shape.batch * shape.heads * shape.seq * shape.seq);
  GradientCheck check;
  check.inputs = {{"qkv", &qkv, &dqkv}};
  auto forward = [&] {
    if (kReference) {
      attention_forward_reference(out.data(), probs.data(), qkv.data(), mask.data(), shape, dropout);
    } else {
      attention_forward(out.data(), probs.data(), qkv.data(), mask.data(), shape, dropout);
    }
  };
  check.forward = [&] {
    forward();
    return out;
  };
  check.backward = [&](const Vector& dout) {
    Zero(dqkv);
    forward();
    if (kReference) {
      attention_backward_reference(dqkv.data(), dout.data(), qkv.data(), probs.data(), shape, dropout);
    } else {
      attention_backward(dqkv.data(), dout.data(), qkv.data(), probs.data(), shape, dropout);
    }
  };
  EXPECT_GRADIENTS_MATCH(check, 6);
}

TEST(OpsGradient, AttentionReference) { CheckAttention<true>(0.0f); }
TEST(OpsGradient, AttentionReferenceWithDropout) { CheckAttention<true>(0.3f); }
TEST(OpsGradient, AttentionBlas) { CheckAttention<false>(0.0f); }
TEST(OpsGradient, AttentionBlasWithDropout) { CheckAttention<false>(0.3f); }

TEST(OpsGradient, Dropout) {
  std::mt19937_64 rng(16);
  const int64_t n = 101;
  const DropoutSpec spec{.p = 0.25f, .seed = 5, .stream = 1};
  Vector x = RandomVector(rng, n), dx(n), y(n);
  GradientCheck check;
  check.inputs = {{"x", &x, &dx}};
  check.forward = [&] {
    dropout_forward(y.data(), x.data(), n, spec);
    return y;
  };
  check.backward = [&](const Vector& dy) {
    Zero(dx);
    dropout_backward(dx.data(), dy.data(), n, spec);
  };
  EXPECT_GRADIENTS_MATCH(check, 7);
}

TEST(OpsGradient, Embedding) {
  std::mt19937_64 rng(17);
  const int64_t b = 2, t = 4, c = 40, v = 6, p = 5, types = 2;
  const std::vector<int32_t> ids = {1, 3, 3, 0, 5, 1, 2, 2};
  const std::vector<int32_t> type_ids = {0, 0, 1, 1, 0, 1, 1, 1};
  Vector word = RandomVector(rng, v * c), pos = RandomVector(rng, p * c),
         type = RandomVector(rng, types * c);
  Vector dword(word.size()), dpos(pos.size()), dtype(type.size()), out(b * t * c);
  GradientCheck check;
  check.inputs = {{"word", &word, &dword}, {"position", &pos, &dpos}, {"type", &type, &dtype}};
  check.forward = [&] {
    embedding_forward(out.data(), ids.data(), type_ids.data(), word.data(), pos.data(), type.data(),
                      b, t, c);
    return out;
  };
  check.backward = [&](const Vector& dout) {
    Zero(dword), Zero(dpos), Zero(dtype);
    embedding_backward(dword.data(), dpos.data(), dtype.data(), dout.data(), ids.data(),
                       type_ids.data(), b, t, c);
  };
  EXPECT_GRADIENTS_MATCH(check, 8);
}

// The padding id's word row gets nothing from the lookup; every other row and table as before.
TEST(OpsGradient, EmbeddingSkipsThePaddingRow) {
  const int64_t b = 1, t = 3, c = 2, v = 4;
  const std::vector<int32_t> ids = {2, 0, 2}, type_ids = {0, 0, 0};
  const std::vector<double> dout = {1, 2, 3, 4, 5, 6};
  std::vector<double> dword(v * c), dpos(t * c), dtype(c * 2);
  embedding_backward(dword.data(), dpos.data(), dtype.data(), dout.data(), ids.data(), type_ids.data(), b, t, c,
                     /*padding_id=*/0);
  EXPECT_EQ(dword, (std::vector<double>{0, 0, 0, 0, 6, 8, 0, 0}));
  EXPECT_EQ(dpos, dout);
  EXPECT_EQ(dtype, (std::vector<double>{9, 12, 0, 0}));
}

TEST(OpsGradient, GatherRows) {
  std::mt19937_64 rng(18);
  const int64_t rows = 6, c = 5;
  const std::vector<int32_t> picked = {4, 0, 4, 2};  // a repeated row accumulates
  Vector x = RandomVector(rng, rows * c), dx(x.size()), out(picked.size() * c);
  GradientCheck check;
  check.inputs = {{"x", &x, &dx}};
  check.forward = [&] {
    gather_rows_forward(out.data(), x.data(), picked.data(), picked.size(), c);
    return out;
  };
  check.backward = [&](const Vector& dout) {
    Zero(dx);
    gather_rows_backward(dx.data(), dout.data(), picked.data(), picked.size(), c);
  };
  EXPECT_GRADIENTS_MATCH(check, 9);
}

TEST(OpsGradient, SoftmaxCrossEntropy) {
  std::mt19937_64 rng(19);
  const int64_t m = 4, v = 11;
  const std::vector<int32_t> labels = {3, -100, 0, 10};  // one ignored row
  Vector z = RandomVector(rng, m * v, -4, 4), dz(z.size()), probs(z.size()), losses(m);
  GradientCheck check;
  check.inputs = {{"logits", &z, &dz}};
  check.forward = [&] {
    softmax_cross_entropy_forward(losses.data(), probs.data(), z.data(), labels.data(), m, v);
    return losses;
  };
  check.backward = [&](const Vector& dlosses) {
    // The op takes one scale for all rows; check row by row through it.
    Zero(dz);
    softmax_cross_entropy_forward(losses.data(), probs.data(), z.data(), labels.data(), m, v);
    for (int64_t r = 0; r < m; ++r) {
      softmax_cross_entropy_backward(dz.data() + r * v, probs.data() + r * v, labels.data() + r, 1,
                                     v, dlosses[r]);
    }
  };
  EXPECT_GRADIENTS_MATCH(check, 10);
}

TEST(OpsGradient, SquaredError) {
  std::mt19937_64 rng(21);
  const int64_t n = 9;
  Vector p = RandomVector(rng, n, -3, 3), t = RandomVector(rng, n, -3, 3), dp(n), losses(n);
  GradientCheck check;
  check.inputs = {{"predictions", &p, &dp}};
  check.forward = [&] {
    squared_error_forward(losses.data(), p.data(), t.data(), n);
    return losses;
  };
  check.backward = [&](const Vector& dlosses) {
    // The op takes one scale for all rows; check row by row through it.
    Zero(dp);
    for (int64_t i = 0; i < n; ++i) squared_error_backward(dp.data() + i, p.data() + i, t.data() + i, 1, dlosses[i]);
  };
  EXPECT_GRADIENTS_MATCH(check, 12);
}

TEST(OpsGradient, Residual) {
  std::mt19937_64 rng(20);
  const int64_t n = 33;
  Vector a = RandomVector(rng, n), b = RandomVector(rng, n), da(n), db(n), out(n);
  GradientCheck check;
  check.inputs = {{"a", &a, &da}, {"b", &b, &db}};
  check.forward = [&] {
    residual_forward(out.data(), a.data(), b.data(), n);
    return out;
  };
  check.backward = [&](const Vector& dout) {
    Zero(da), Zero(db);
    accumulate(da.data(), dout.data(), n);
    accumulate(db.data(), dout.data(), n);
  };
  EXPECT_GRADIENTS_MATCH(check, 11);
}

}  // namespace
}  // namespace cloze::cpu
