#include "data/dataset_shuffle.h"

#include <cstdlib>
#include <set>
#include <vector>

#include "gtest/gtest.h"

namespace cloze::data {
namespace {

std::vector<int64_t> Order(int64_t n, uint64_t seed, int64_t epoch) {
  const ShufflePermutation permutation(n, seed, epoch);
  std::vector<int64_t> order(n);
  for (int64_t p = 0; p < n; ++p) order[p] = permutation(p);
  return order;
}

TEST(ShufflePermutation, IsAPermutationForEverySize) {
  for (int64_t n : {1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100, 1000, 4097}) {
    for (uint64_t seed : {0ull, 1ull, 0xdeadbeefull}) {
      for (int64_t epoch : {0, 1, 1000000}) {
        const std::vector<int64_t> order = Order(n, seed, epoch);
        std::vector<bool> seen(n, false);
        for (int64_t index : order) {
          ASSERT_GE(index, 0);
          ASSERT_LT(index, n);
          ASSERT_FALSE(seen[index]) << "n " << n << " seed " << seed << " epoch " << epoch << ": " << index;
          seen[index] = true;
        }
      }
    }
  }
}

TEST(ShufflePermutation, SameSeedAndEpochGiveTheSameOrder) { EXPECT_EQ(Order(1000, 42, 3), Order(1000, 42, 3)); }

// Fixed values pin the order across machines, compilers and refactorings: a checkpointed
// cursor only means something if the order it counts in never changes. They were checked
// against an independent Python transcription of dataset_shuffle.cc's arithmetic.
TEST(ShufflePermutation, OrderIsPinned) {
  const std::vector<int64_t> order = Order(1000, 42, 0);
  EXPECT_EQ(std::vector<int64_t>(order.begin(), order.begin() + 8),
            (std::vector<int64_t>{398, 402, 193, 537, 377, 690, 123, 260}));
}

int CountEqualPositions(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  int equal = 0;
  for (size_t i = 0; i < a.size(); ++i) equal += a[i] == b[i];
  return equal;
}

TEST(ShufflePermutation, EpochsAndSeedsGiveDifferentOrders) {
  const std::vector<int64_t> base = Order(1000, 42, 0);
  // Two independent random permutations agree in about one position.
  EXPECT_LT(CountEqualPositions(base, Order(1000, 42, 1)), 10);
  EXPECT_LT(CountEqualPositions(base, Order(1000, 43, 0)), 10);
  EXPECT_LT(CountEqualPositions(Order(1000, 42, 1), Order(1000, 43, 0)), 10);
}

// Not the identity or a near-rotation: few fixed points, and the mean displacement of a
// uniform random permutation, n/3.
TEST(ShufflePermutation, LooksRandom) {
  const int64_t n = 10000;
  const std::vector<int64_t> order = Order(n, 7, 0);
  int fixed = 0;
  double displacement = 0;
  int ascending_pairs = 0;
  for (int64_t p = 0; p < n; ++p) {
    fixed += order[p] == p;
    displacement += std::llabs(order[p] - p);
    if (p > 0) ascending_pairs += order[p] > order[p - 1];
  }
  EXPECT_LT(fixed, 10);
  EXPECT_NEAR(displacement / n / n, 1.0 / 3.0, 0.02);
  EXPECT_NEAR(ascending_pairs / static_cast<double>(n - 1), 0.5, 0.03);
}

// No table of size n: a trillion examples cost nothing.
TEST(ShufflePermutation, HugeDatasetsNeedNoMemory) {
  const int64_t n = 1000000000000;
  const ShufflePermutation permutation(n, 1, 2);
  std::set<int64_t> seen;
  for (int64_t p = 0; p < 1000; ++p) {
    const int64_t index = permutation(p);
    ASSERT_GE(index, 0);
    ASSERT_LT(index, n);
    seen.insert(index);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace cloze::data
