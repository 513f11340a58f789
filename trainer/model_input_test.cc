// The per-token and span label layouts: how the featurisers' outputs become model inputs and
// batches (padding with -100, B starts then B ends), what is refused, and a batch source
// over tagging windows that resumes exactly.
#include "trainer/model_input.h"

#include "gtest/gtest.h"
#include "trainer/task_batch_source.h"

namespace cloze {
namespace {

constexpr int32_t kIgnored = tasks::kIgnoredLabel;

// A tagging window of `words` one-piece words with tags 0, 1, 2, ... (+ [CLS]=2, [SEP]=3).
tasks::TaggingFeature TaggingWindow(int64_t example, int words) {
  tasks::TaggingFeature f;
  f.example_index = example;
  f.num_words = words;
  f.input_ids.push_back(2);
  f.labels.push_back(kIgnored);
  for (int w = 0; w < words; ++w) {
    f.input_ids.push_back(100 + static_cast<int32_t>(example));
    f.labels.push_back(w);
  }
  f.input_ids.push_back(3);
  f.labels.push_back(kIgnored);
  f.token_type_ids.assign(f.input_ids.size(), 0);
  f.attention_mask.assign(f.input_ids.size(), 1);
  return f;
}

tasks::SquadFeature SquadWindow(int64_t example, int length, int start, int end) {
  tasks::SquadFeature f;
  f.example_index = example;
  f.input_ids.assign(length, 7);
  f.token_type_ids.assign(length, 1);
  f.attention_mask.assign(length, 1);
  f.start_position = start;
  f.end_position = end;
  return f;
}

template <typename T>
std::vector<const T*> Pointers(const std::vector<T>& values) {
  std::vector<const T*> out;
  for (const T& v : values) out.push_back(&v);
  return out;
}

TEST(CollateModelInputs, PadsTokenLabelsWithTheIgnoredLabel) {
  const std::vector<ModelInput> inputs = {ToModelInput(TaggingWindow(0, 1)), ToModelInput(TaggingWindow(1, 3))};
  absl::StatusOr<Batch> b = CollateModelInputs(Pointers(inputs), /*pad_id=*/0, {.labels = LabelLayout::kPerToken});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->batch_size, 2);
  EXPECT_EQ(b->seq_len, 5);
  EXPECT_EQ(b->labels, (std::vector<int32_t>{kIgnored, 0, kIgnored, kIgnored, kIgnored,  // 3 tokens + 2 padding
                                             kIgnored, 0, 1, 2, kIgnored}));
  EXPECT_EQ(b->attention_mask, (std::vector<int32_t>{1, 1, 1, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(b->input_ids, (std::vector<int32_t>{2, 100, 3, 0, 0, 2, 101, 101, 101, 3}));
  EXPECT_TRUE(b->targets.empty());
}

TEST(CollateModelInputs, PutsTheStartsThenTheEnds) {
  const std::vector<ModelInput> inputs = {ToModelInput(SquadWindow(0, 6, 4, 5)), ToModelInput(SquadWindow(1, 4, 0, 0)),
                                          ToModelInput(SquadWindow(2, 5, -1, -1))};
  absl::StatusOr<Batch> b = CollateModelInputs(Pointers(inputs), 9, {.labels = LabelLayout::kSpan});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->seq_len, 6);
  EXPECT_EQ(b->labels, (std::vector<int32_t>{4, 0, -1, 5, 0, -1}));
  EXPECT_EQ(b->input_ids[6 + 4], 9);  // the second row's padding
  EXPECT_EQ(b->token_type_ids[6 + 4], 0);
}

TEST(CollateModelInputs, SentenceFeaturesKeepTheirOneLabelOrScore) {
  tasks::SequenceFeature f;
  f.example_index = 3;
  f.input_ids = {2, 50, 3};
  f.token_type_ids = {0, 0, 0};
  f.attention_mask = {1, 1, 1};
  f.label = 1;
  f.score = 2.5f;
  const std::vector<ModelInput> inputs = {ToModelInput(f)};
  absl::StatusOr<Batch> b = CollateModelInputs(Pointers(inputs), 0, {});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->labels, (std::vector<int32_t>{1}));
  b = CollateModelInputs(Pointers(inputs), 0, {.regression = true});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->targets, (std::vector<float>{2.5f}));
  EXPECT_TRUE(b->labels.empty());
}

TEST(CollateModelInputs, RefusesLabelsOutOfTheirLayout) {
  ModelInput tagging = ToModelInput(TaggingWindow(4, 2));
  tagging.labels.pop_back();
  const std::vector<ModelInput> short_labels = {tagging};
  absl::Status s = CollateModelInputs(Pointers(short_labels), 0, {.labels = LabelLayout::kPerToken}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("example 4: 3 token labels for 4 tokens"), std::string::npos) << s;

  const std::vector<ModelInput> outside = {ToModelInput(SquadWindow(5, 4, 1, 4))};
  s = CollateModelInputs(Pointers(outside), 0, {.labels = LabelLayout::kSpan}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("example 5"), std::string::npos) << s;
  EXPECT_FALSE(CollateModelInputs(Pointers(outside), 0, {.labels = LabelLayout::kPerSequence}).ok());
}

TEST(TaskBatchSource, TaggingWindowsResumeExactly) {
  std::vector<tasks::TaggingFeature> windows;
  for (int i = 0; i < 11; ++i) windows.push_back(TaggingWindow(i, i % 4 + 1));
  const TaskBatchOptions options{.batch_size = 3, .seed = 4, .label_layout = LabelLayout::kPerToken};
  auto straight = *TaskBatchSource::Create(windows, options);
  for (int step = 0; step < 5; ++step) ASSERT_TRUE(straight->Next().ok());
  auto resumed = *TaskBatchSource::Create(windows, options);
  ASSERT_TRUE(resumed->Seek(straight->cursor()).ok());
  for (int step = 0; step < 6; ++step) {
    absl::StatusOr<Batch> x = straight->Next(), y = resumed->Next();
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(x->input_ids, y->input_ids) << "step " << step;
    EXPECT_EQ(x->labels, y->labels) << "step " << step;
    EXPECT_EQ(x->labels.size(), static_cast<size_t>(x->batch_size) * x->seq_len);
  }
  // Other labels on the same tokens make another order fingerprint: its cursor is refused.
  windows[0].labels[1] = 3;
  auto relabelled = *TaskBatchSource::Create(windows, options);
  EXPECT_EQ(relabelled->Seek(straight->cursor()).code(), absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace cloze
