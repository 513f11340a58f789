// SQuAD features on hand-made cases: BERT's windows and max-context flags counted by hand,
// answer labels in and out of windows, byte spans of non-ASCII text, impossible and
// unanswered questions, bad options. The whole v1.1 dev set is squad_dev_test.cc.
#include "tasks/squad_features.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/testing/test_tokenizers.h"

namespace cloze::tasks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SharedTokenizer;

// Ten words of one BERT token each.
constexpr char kDigits[] = "zero one two three four five six seven eight nine";

QaExample DigitsExample() {
  QaExample example{.id = "q1", .question = "what", .context = kDigits};
  const std::string answer = "seven eight";
  example.answers.push_back({answer, 0, static_cast<int64_t>(example.context.find(answer))});
  return example;
}

// Context tokens 0..9 in windows of 5 (max_seq_length 9 = [CLS] what [SEP] 5 [SEP]) whose
// starts are 2 apart: [0,4] [2,6] [4,8] [6,9]. Max context (min(left, right) + 0.01 * length,
// first window on a tie): 0-3 in the first, 4-5 in the second, 6-7 in the third, 8-9 in the last.
TEST(SquadFeatures, WindowsAndMaxContextAsBertCountsThem) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  const QaExample example = DigitsExample();
  ASSERT_EQ(bert->Encode(example.context).size(), 10u);
  absl::StatusOr<std::vector<SquadFeature>> features = SquadFeatures(
      example, 4, *bert, {.max_seq_length = 9, .doc_stride = 2, .max_query_length = 64});
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 4u);
  const SquadFeature& first = (*features)[0];
  EXPECT_EQ(first.example_index, 4);
  EXPECT_EQ(bert->Decode(first.input_ids), "[CLS] what [SEP] zero one two three four [SEP]");
  EXPECT_THAT(first.token_type_ids, ElementsAre(0, 0, 0, 1, 1, 1, 1, 1, 1));
  EXPECT_THAT(first.token_begin, ElementsAre(-1, -1, -1, 0, 5, 9, 13, 19, -1));
  EXPECT_THAT(first.token_end, ElementsAre(-1, -1, -1, 4, 8, 12, 18, 23, -1));
  EXPECT_EQ(bert->Decode((*features)[3].input_ids), "[CLS] what [SEP] six seven eight nine [SEP]");
  EXPECT_EQ((*features)[3].input_ids.size(), 8u);

  const bool F = false, T = true;
  EXPECT_THAT((*features)[0].max_context, ElementsAre(F, F, F, T, T, T, T, F, F));
  EXPECT_THAT((*features)[1].max_context, ElementsAre(F, F, F, F, F, T, T, F, F));
  EXPECT_THAT((*features)[2].max_context, ElementsAre(F, F, F, F, F, T, T, F, F));
  EXPECT_THAT((*features)[3].max_context, ElementsAre(F, F, F, F, F, T, T, F));

  // "seven eight" = context tokens 7-8: whole only in the third and fourth windows.
  const int expected[4][2] = {{0, 0}, {0, 0}, {6, 7}, {4, 5}};
  for (int w = 0; w < 4; ++w) {
    const SquadFeature& f = (*features)[w];
    EXPECT_EQ(f.window_index, w);
    EXPECT_EQ(f.start_position, expected[w][0]) << "window " << w;
    EXPECT_EQ(f.end_position, expected[w][1]) << "window " << w;
  }
  const SquadFeature& third = (*features)[2];
  EXPECT_EQ(example.context.substr(third.token_begin[6], third.token_end[7] - third.token_begin[6]),
            "seven eight");
}

TEST(SquadFeatures, QuestionIsCutToMaxQueryLength) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  QaExample example = DigitsExample();
  example.question = "one two three four five";
  absl::StatusOr<std::vector<SquadFeature>> features = SquadFeatures(
      example, 0, *bert, {.max_seq_length = 384, .doc_stride = 128, .max_query_length = 2});
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 1u);
  EXPECT_EQ(bert->Decode(features->front().input_ids),
            "[CLS] one two [SEP] zero one two three four five six seven eight nine [SEP]");
  EXPECT_EQ(features->front().start_position, 11);
  EXPECT_EQ(features->front().end_position, 12);
}

// Spans are bytes of the original text: case, accents and multi-byte characters survive.
TEST(SquadFeatures, AnswerTokensFromByteSpansOfNonAsciiText) {
  for (const std::string name : {"albert", "bert"}) {
    const auto tokenizer = SharedTokenizer(name);
    ASSERT_NE(tokenizer, nullptr);
    QaExample example{
        .id = "u", .question = "price?", .context = "Un Café Crème coûte 3,50 € à Zürich."};
    const std::string answer = "Café Crème";
    example.answers.push_back({answer, 3, static_cast<int64_t>(example.context.find(answer))});
    absl::StatusOr<std::vector<SquadFeature>> features = SquadFeatures(example, 0, *tokenizer, {});
    ASSERT_TRUE(features.ok()) << features.status();
    ASSERT_EQ(features->size(), 1u);
    const SquadFeature& f = features->front();
    ASSERT_GT(f.start_position, 0) << name;
    EXPECT_EQ(example.context.substr(f.token_begin[f.start_position],
                                     f.token_end[f.end_position] - f.token_begin[f.start_position]),
              answer)
        << name;
    // An answer starting inside a word takes the token that contains its first byte.
    example.answers = {{"afé", 4, 4}};
    features = SquadFeatures(example, 0, *tokenizer, {});
    ASSERT_TRUE(features.ok()) << features.status();
    const SquadFeature& inner = features->front();
    EXPECT_LE(inner.token_begin[inner.start_position], 4) << name;
    EXPECT_GT(inner.token_end[inner.start_position], 4) << name;
    EXPECT_GE(inner.token_end[inner.end_position], 7) << name;  // "afé" ends at byte 7
  }
}

TEST(SquadFeatures, ImpossibleAndUnansweredQuestions) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  QaExample impossible = DigitsExample();
  impossible.is_impossible = true;
  impossible.plausible_answers = impossible.answers;
  impossible.answers.clear();
  absl::StatusOr<std::vector<SquadFeature>> features = SquadFeatures(
      impossible, 0, *bert, {.max_seq_length = 9, .doc_stride = 2, .max_query_length = 64});
  ASSERT_TRUE(features.ok()) << features.status();
  for (const SquadFeature& f : *features) {
    EXPECT_EQ(f.start_position, 0);
    EXPECT_EQ(f.end_position, 0);
  }
  QaExample test = DigitsExample();
  test.answers.clear();  // test data: no answer given, not impossible
  features = SquadFeatures(test, 0, *bert, {});
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_EQ(features->front().start_position, -1);
  EXPECT_EQ(features->front().end_position, -1);

  QaExample empty{.id = "e", .question = "what", .context = "  "};
  features = SquadFeatures(empty, 0, *bert, {});
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 1u);  // one window, empty
  EXPECT_EQ(bert->Decode(features->front().input_ids), "[CLS] what [SEP] [SEP]");
}

TEST(SquadFeatures, BadOptionsAndAnswersAreErrors) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  const QaExample example = DigitsExample();
  absl::Status status =
      SquadFeatures(example, 0, *bert,
                    {.max_seq_length = 4, .doc_stride = 2, .max_query_length = 64})
          .status();
  EXPECT_THAT(status.message(), HasSubstr("question q1: max_seq_length 4 leaves no room"));
  EXPECT_FALSE(SquadFeatures(example, 0, *bert, {.doc_stride = 0}).ok());
  QaExample outside = example;
  outside.answers = {{"nine!", 0, 46}};
  status = SquadFeatures(outside, 0, *bert, {}).status();
  EXPECT_THAT(status.message(), HasSubstr("outside its context"));
}

}  // namespace
}  // namespace cloze::tasks
