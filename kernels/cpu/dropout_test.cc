// Philox against the published known-answer vectors, and dropout's statistics and
// reproducibility.
#include <cmath>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/dropout.h"
#include "kernels/philox.h"

namespace cloze {
namespace {

// Known-answer tests for Philox4x32-10 from Random123 (kat_vectors).
TEST(Philox, KnownAnswers) {
  struct Case {
    Philox4x32 counter;
    uint64_t key;
    Philox4x32 expected;
  };
  const Case cases[] = {
      {{{0, 0, 0, 0}}, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       0xffffffffffffffffull,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       0x299f31d0a4093822ull,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Case& c : cases) {
    const Philox4x32 out = philox4x32_10(c.counter, c.key);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out.v[i], c.expected.v[i]) << "word " << i;
  }
}

TEST(Dropout, KeepsAboutOneMinusPAndScales) {
  const int64_t n = 1 << 20;
  const cpu::DropoutSpec spec{.p = 0.1f, .seed = 123, .stream = 4};
  std::vector<float> ones(n, 1.0f), out(n);
  cpu::dropout_forward(out.data(), ones.data(), n, spec);
  int64_t kept = 0;
  for (float v : out) {
    if (v != 0.0f) {
      ++kept;
      EXPECT_FLOAT_EQ(v, 1.0f / 0.9f);
    }
  }
  // Binomial(n, 0.9): standard deviation ≈ 307; allow 5 of them.
  EXPECT_NEAR(static_cast<double>(kept), 0.9 * n, 5 * std::sqrt(n * 0.09));
}

TEST(Dropout, MaskIsAFunctionOfSeedStreamAndIndex) {
  const int64_t n = 1001;
  const cpu::DropoutSpec a{.p = 0.5f, .seed = 1, .stream = 2};
  std::vector<float> x(n, 1.0f), whole(n), slice(n - 7), other(n);
  cpu::dropout_forward(whole.data(), x.data(), n, a);
  // A slice starting at an unaligned element sees the same mask.
  cpu::dropout_forward_slice(slice.data(), x.data() + 7, n - 7, 7, a);
  for (int64_t i = 7; i < n; ++i) ASSERT_EQ(whole[i], slice[i - 7]) << i;
  // Another stream gives another mask.
  cpu::dropout_forward(other.data(), x.data(), n, {.p = 0.5f, .seed = 1, .stream = 3});
  EXPECT_NE(whole, other);
  for (int64_t i = 0; i < n; ++i) EXPECT_EQ(whole[i] != 0.0f, cpu::dropout_keeps(a, i));
}

TEST(Dropout, InactiveIsIdentity) {
  std::vector<float> x = {1, -2, 3}, out(3), dx = {0.5f, 0.5f, 0.5f};
  cpu::dropout_forward(out.data(), x.data(), 3, cpu::DropoutSpec{});
  EXPECT_EQ(out, x);
  cpu::dropout_backward(dx.data(), x.data(), 3, cpu::DropoutSpec{});
  EXPECT_EQ(dx, (std::vector<float>{1.5f, -1.5f, 3.5f}));
}

}  // namespace
}  // namespace cloze
