#include "data/collate.h"

#include <vector>

#include "absl/strings/match.h"
#include "data/shard_testing.h"
#include "gtest/gtest.h"
#include "proto/model_config.pb.h"
#include "model/batch.h"

namespace cloze::data {
namespace {

Example Make(std::vector<int32_t> ids, int b_start, std::vector<int32_t> positions, std::vector<int32_t> labels,
             int sentence_label) {
  Example e;
  for (int32_t id : ids) e.add_input_ids(id);
  e.set_segment_b_start(b_start);
  for (int32_t p : positions) e.add_masked_positions(p);
  for (int32_t l : labels) e.add_masked_labels(l);
  e.set_sentence_label(sentence_label);
  return e;
}

TEST(Collate, PadsToFixedShapes) {
  const std::vector<Example> examples = {
      Make({2, 10, 11, 3, 12, 3}, 4, {1, 4}, {20, 21}, 1),
      Make({2, 13, 3, 14, 15, 16, 3}, 3, {}, {}, 0),
  };
  absl::StatusOr<Batch> batch = Collate(examples, {.seq_len = 8, .max_predictions_per_seq = 3});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_EQ(batch->batch_size, 2);
  EXPECT_EQ(batch->seq_len, 8);
  EXPECT_EQ(batch->input_ids, (std::vector<int32_t>{2, 10, 11, 3, 12, 3, 0, 0,  //
                                                    2, 13, 3, 14, 15, 16, 3, 0}));
  EXPECT_EQ(batch->token_type_ids, (std::vector<int32_t>{0, 0, 0, 0, 1, 1, 0, 0,  //
                                                         0, 0, 0, 1, 1, 1, 1, 0}));
  EXPECT_EQ(batch->attention_mask, (std::vector<int32_t>{1, 1, 1, 1, 1, 1, 0, 0,  //
                                                         1, 1, 1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(batch->masked_positions, (std::vector<int32_t>{1, 4, 0, 0, 0, 0}));
  EXPECT_EQ(batch->masked_labels, (std::vector<int32_t>{20, 21, -1, -1, -1, -1}));
  EXPECT_EQ(batch->sentence_labels, (std::vector<int32_t>{1, 0}));

  ModelConfig config;
  config.set_vocab_size(30);
  config.set_max_position_embeddings(8);
  config.set_type_vocab_size(2);
  EXPECT_TRUE(ValidateBatch(*batch, config).ok()) << ValidateBatch(*batch, config);
}

TEST(Collate, FlatPositionsPointAtTheirRow) {
  std::vector<Example> examples;
  for (int i = 0; i < 5; ++i) examples.push_back(testing::MakeExample(i * 3 + 1));
  const int t_len = testing::kMaxSeqLength;
  const int m = testing::kMaxPredictions;
  absl::StatusOr<Batch> batch = Collate(examples, {.seq_len = t_len, .max_predictions_per_seq = m});
  ASSERT_TRUE(batch.ok()) << batch.status();
  ASSERT_EQ(batch->masked_positions.size(), static_cast<size_t>(5 * m));
  for (int b = 0; b < 5; ++b) {
    const Example& e = examples[b];
    for (int i = 0; i < m; ++i) {
      const int flat = batch->masked_positions[b * m + i];
      const int label = batch->masked_labels[b * m + i];
      if (i < e.masked_positions_size()) {
        EXPECT_EQ(flat, b * t_len + e.masked_positions(i));
        EXPECT_EQ(label, e.masked_labels(i));
        EXPECT_EQ(batch->input_ids[flat], e.input_ids(e.masked_positions(i)));
      } else {
        EXPECT_EQ(flat, 0);
        EXPECT_EQ(label, -1);
      }
    }
  }
}

TEST(Collate, ErrorsNameTheExample) {
  const CollateOptions options{.seq_len = 8, .max_predictions_per_seq = 2};
  const Example good = Make({2, 10, 3, 11, 3}, 3, {1}, {7}, 0);
  const std::vector<int64_t> ids = {100, 4711};
  struct Case {
    Example bad;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {Make({2, 1, 1, 1, 1, 1, 1, 1, 3}, 3, {}, {}, 0),
       "input_ids: has 9 tokens, more than the sequence length 8"},
      {Make({2, 10, 3, 11, 3}, 3, {1, 2, 4}, {7, 7, 7}, 0), "has 3 predictions, more than 2"},
      {Make({2, 10, 3, 11, 3}, 3, {5}, {7}, 0), "masked_positions[0]: 5 is outside [0, 5)"},
      {Make({2, 10, 3, 11, 3}, 3, {2, 1}, {7, 7}, 0), "masked_positions[1]: 1 does not follow 2"},
      {Make({2, 10, 3, 11, 3}, 3, {1}, {}, 0), "masked_labels: has 0 elements"},
      {Make({2, 10, 3, 11, 3}, 3, {1}, {-4}, 0), "masked_labels[0]: -4"},
      {Make({2, 10, 3, 11, 3}, 0, {}, {}, 0), "segment_b_start: 0 is outside [1, 5]"},
      {Make({2, 10, 3, 11, 3}, 3, {}, {}, 2), "sentence_label: 2"},
      {Make({}, 0, {}, {}, 0), "input_ids: is empty"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.mentions);
    absl::Status s = Collate({good, c.bad}, options, ids).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StrContains(s.message(), "example 4711 (batch row 1)")) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.mentions)) << s;
  }
  absl::Status s = Collate({good, cases[0].bad}, options).status();
  EXPECT_TRUE(absl::StrContains(s.message(), "batch row 1:")) << s;
  // With a vocabulary size, ids beyond it are refused too.
  s = Collate({Make({2, 10, 3, 99, 3}, 3, {}, {}, 0)},
              {.seq_len = 8, .max_predictions_per_seq = 2, .vocab_size = 50})
          .status();
  EXPECT_TRUE(absl::StrContains(s.message(), "input_ids[3]: 99 is outside [0, 50)")) << s;
}

TEST(Collate, BadCallsAreRefused) {
  const Example good = Make({2, 10, 3}, 2, {}, {}, 0);
  EXPECT_EQ(Collate({}, {.seq_len = 8}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Collate({good}, {.seq_len = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Collate({good}, {.seq_len = 8, .max_predictions_per_seq = -1}).status().code(),
            absl::StatusCode::kInvalidArgument);
  const std::vector<int64_t> two_ids = {1, 2};
  EXPECT_EQ(Collate({good}, {.seq_len = 8}, two_ids).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cloze::data
