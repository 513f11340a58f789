#include "trainer/task_batch_source.h"

#include <algorithm>
#include <set>

#include "gtest/gtest.h"

namespace cloze {
namespace {

// Feature i: [CLS]=2, i+10 repeated (i % 5) + 1 times, [SEP]=3; label i % 2; score i / 10.
std::vector<tasks::SequenceFeature> Features(int n) {
  std::vector<tasks::SequenceFeature> out;
  for (int i = 0; i < n; ++i) {
    tasks::SequenceFeature f;
    f.example_index = i;
    f.input_ids.push_back(2);
    for (int k = 0; k <= i % 5; ++k) f.input_ids.push_back(i + 10);
    f.input_ids.push_back(3);
    f.token_type_ids.assign(f.input_ids.size(), 0);
    f.token_type_ids.back() = 1;
    f.attention_mask.assign(f.input_ids.size(), 1);
    f.label = i % 2;
    f.score = i / 10.0f;
    out.push_back(f);
  }
  return out;
}

std::unique_ptr<TaskBatchSource> Source(int n, TaskBatchOptions options) {
  absl::StatusOr<std::unique_ptr<TaskBatchSource>> s = TaskBatchSource::Create(Features(n), options);
  EXPECT_TRUE(s.ok()) << s.status();
  return *std::move(s);
}

// The example of each row, read back from its first content token.
std::vector<int> Rows(const Batch& b) {
  std::vector<int> rows;
  for (int r = 0; r < b.batch_size; ++r) rows.push_back(b.input_ids[r * b.seq_len + 1] - 10);
  return rows;
}

TEST(TaskBatchSource, PadsToTheLongestExampleOfTheBatch) {
  auto source = Source(10, {.batch_size = 4, .seed = 1, .pad_id = 0});
  for (int step = 0; step < 5; ++step) {
    absl::StatusOr<Batch> b = source->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    ASSERT_EQ(b->batch_size, 4);
    int longest = 0;
    for (int i : Rows(*b)) longest = std::max(longest, i % 5 + 3);
    EXPECT_EQ(b->seq_len, longest) << "step " << step;
    ASSERT_EQ(b->labels.size(), 4u);
    EXPECT_TRUE(b->targets.empty());
    const std::vector<int> rows = Rows(*b);
    for (int r = 0; r < 4; ++r) {
      const int length = rows[r] % 5 + 3;
      EXPECT_EQ(b->labels[r], rows[r] % 2);
      for (int t = 0; t < b->seq_len; ++t) {
        const int cell = r * b->seq_len + t;
        EXPECT_EQ(b->attention_mask[cell], t < length ? 1 : 0);
        if (t >= length) {
          EXPECT_EQ(b->input_ids[cell], 0);
          EXPECT_EQ(b->token_type_ids[cell], 0);
        }
      }
      EXPECT_EQ(b->input_ids[r * b->seq_len + length - 1], 3);
      EXPECT_EQ(b->token_type_ids[r * b->seq_len + length - 1], 1);
    }
  }
}

TEST(TaskBatchSource, RegressionReadsScoresIntoTargets) {
  auto source = Source(10, {.batch_size = 3, .seed = 1, .regression = true});
  absl::StatusOr<Batch> b = source->Next();
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->labels.empty());
  const std::vector<int> rows = Rows(*b);
  ASSERT_EQ(b->targets.size(), 3u);
  for (int r = 0; r < 3; ++r) EXPECT_EQ(b->targets[r], rows[r] / 10.0f);
}

TEST(TaskBatchSource, EachEpochIsAPermutationThatDependsOnSeedAndEpoch) {
  auto a = Source(37, {.batch_size = 4, .seed = 5});
  auto same = Source(37, {.batch_size = 4, .seed = 5});
  auto other = Source(37, {.batch_size = 4, .seed = 6});
  for (int epoch = 0; epoch < 3; ++epoch) {
    const std::vector<int64_t> order = a->Order(epoch);
    EXPECT_EQ(std::set<int64_t>(order.begin(), order.end()).size(), 37u);
    EXPECT_EQ(order, same->Order(epoch));
    EXPECT_NE(order, other->Order(epoch));
    EXPECT_NE(order, a->Order(epoch + 1));
  }
  // The batches follow the order, across the epoch boundary (37 = 9 batches + 1).
  std::vector<int> seen;
  for (int step = 0; step < 10; ++step) {
    for (int i : Rows(*a->Next())) seen.push_back(i);
  }
  const std::vector<int64_t> e0 = a->Order(0), e1 = a->Order(1);
  for (int i = 0; i < 37; ++i) EXPECT_EQ(seen[i], e0[i]);
  for (int i = 37; i < 40; ++i) EXPECT_EQ(seen[i], e1[i - 37]);
}

TEST(TaskBatchSource, SeekingToACursorContinuesExactly) {
  auto straight = Source(23, {.batch_size = 4, .seed = 9});
  for (int step = 0; step < 7; ++step) ASSERT_TRUE(straight->Next().ok());
  const DataCursor cursor = straight->cursor();
  EXPECT_EQ(cursor.epoch(), 1);
  EXPECT_EQ(cursor.position(), 28 - 23);
  auto resumed = Source(23, {.batch_size = 4, .seed = 9});
  ASSERT_TRUE(resumed->Seek(cursor).ok());
  for (int step = 0; step < 12; ++step) {
    absl::StatusOr<Batch> x = straight->Next(), y = resumed->Next();
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(x->input_ids, y->input_ids) << "step " << step;
    EXPECT_EQ(x->labels, y->labels);
  }
  // Another seed (or other data) makes another order: its cursor is refused.
  auto other = Source(23, {.batch_size = 4, .seed = 10});
  EXPECT_EQ(other->Seek(cursor).code(), absl::StatusCode::kFailedPrecondition);
  DataCursor outside = cursor;
  outside.set_position(23);
  EXPECT_EQ(resumed->Seek(outside).code(), absl::StatusCode::kInvalidArgument);
}

// The same rows, padded to the same length (the step's longest): a step's shapes, and so its
// dropout masks, do not depend on the split.
TEST(TaskBatchSource, RanksSplitEachStepOfTheSingleProcessStream) {
  auto one = Source(30, {.batch_size = 6, .seed = 3});
  auto rank0 = Source(30, {.batch_size = 3, .seed = 3, .rank = 0, .world_size = 2});
  auto rank1 = Source(30, {.batch_size = 3, .seed = 3, .rank = 1, .world_size = 2});
  for (int step = 0; step < 8; ++step) {
    const Batch whole = *one->Next(), first = *rank0->Next(), second = *rank1->Next();
    std::vector<int> parts = Rows(first);
    for (int i : Rows(second)) parts.push_back(i);
    EXPECT_EQ(Rows(whole), parts) << "step " << step;
    EXPECT_EQ(first.seq_len, whole.seq_len) << "step " << step;
    EXPECT_EQ(second.seq_len, whole.seq_len) << "step " << step;
    EXPECT_EQ(std::vector<int32_t>(whole.input_ids.begin(), whole.input_ids.begin() + 3 * whole.seq_len),
              first.input_ids) << "step " << step;
  }
  EXPECT_EQ(one->cursor().DebugString(), rank0->cursor().DebugString());
  EXPECT_EQ(rank0->cursor().DebugString(), rank1->cursor().DebugString());
}

TEST(TaskBatchSource, RefusesUnusableInput) {
  EXPECT_EQ(TaskBatchSource::Create({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(TaskBatchSource::Create(Features(4), {.batch_size = 0}).ok());
  EXPECT_FALSE(TaskBatchSource::Create(Features(4), {.rank = 2, .world_size = 2}).ok());
  std::vector<tasks::SequenceFeature> unlabelled = Features(4);
  unlabelled[2].label.reset();
  absl::Status s = TaskBatchSource::Create(unlabelled, {}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("example 2"), std::string::npos) << s;
}

}  // namespace
}  // namespace cloze

namespace cloze {
namespace {

// Each group of kLengthGroupSteps steps is the plain order's group sorted by length, longest
// first; a step's rows have similar lengths; the cursor of a plain run is refused.
TEST(TaskBatchSource, GroupingByLengthSortsEachGroupOfTheShuffledOrder) {
  const int n = 2 * kLengthGroupSteps * 4 + 7;  // two whole groups of 4-input steps and a part
  auto plain = Source(n, {.batch_size = 2, .seed = 5, .world_size = 2});
  auto grouped = Source(n, {.batch_size = 2, .seed = 5, .world_size = 2, .group_by_length = true});
  const std::vector<int64_t> before = plain->Order(3), after = grouped->Order(3);
  const size_t group = kLengthGroupSteps * 4;
  auto length = [](int64_t i) { return i % 5 + 3; };  // Features(i): [CLS], i % 5 + 1 ids, [SEP]
  for (size_t start = 0; start < before.size(); start += group) {
    const size_t end = std::min(before.size(), start + group);
    std::vector<int64_t> expected(before.begin() + start, before.begin() + end);
    std::stable_sort(expected.begin(), expected.end(), [&](int64_t a, int64_t b) { return length(a) > length(b); });
    EXPECT_EQ(std::vector<int64_t>(after.begin() + start, after.begin() + end), expected) << "group at " << start;
  }
  EXPECT_NE(plain->cursor().order_fingerprint(), grouped->cursor().order_fingerprint());
  EXPECT_FALSE(grouped->Seek(plain->cursor()).ok());
}

}  // namespace
}  // namespace cloze
