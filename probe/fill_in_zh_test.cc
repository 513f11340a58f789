// The Chinese fill-in probe's classes, its scoring on a hand-made case (a character of two
// sub-tokens with one wrong is wrong), its queries on the real tokenizers' output (BERT's
// WordPiece: a token per character, some unknown; ALBERT's English SentencePiece: a whole
// run of Han characters in one piece, so no Han character to ask) and windows, and the text
// reader's bad lines.
#include "probe/fill_in_zh.h"

#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/testing/test_tokenizers.h"

namespace cloze::probe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(FillInZh, CharacterClasses) {
  for (char32_t c : std::u32string_view(U"的之了是在和不也有這这其而以於于们們")) EXPECT_EQ(ChineseCharacterClass(c), "function");
  for (char32_t c : std::u32string_view(U"一二三十百千万萬亿零〇两")) EXPECT_EQ(ChineseCharacterClass(c), "numeral");
  for (char32_t c : std::u32string_view(U"，。、；：「」《》（）？！“”—…·")) EXPECT_EQ(ChineseCharacterClass(c), "punctuation");
  for (char32_t c : std::u32string_view(U"猫北京人战国游戏")) EXPECT_EQ(ChineseCharacterClass(c), "content");
  for (char32_t c : std::u32string_view(U"a1 ,.\u3000ω")) EXPECT_EQ(ChineseCharacterClass(c), "");
}

TEST(FillInZh, ACharacterOfTwoSubTokensWithOneWrongIsWrong) {
  const tasks::TaggingFeature feature;  // ScoreFillIn reads only the queries' own fields
  const std::vector<FillInQuery> queries = {
      {.feature = &feature, .positions = {1, 2}, .original_ids = {3, 4}, .word_class = "content"},
      {.feature = &feature, .positions = {3, 4}, .original_ids = {3, 4}, .word_class = "content"},
      {.feature = &feature, .positions = {5}, .original_ids = {2}, .word_class = "function"},
  };
  // Argmax per masked row: 3 4 (right), 3 1 (second sub-token wrong), 2 (right).
  const int vocab = 5;
  std::vector<float> logits(5 * vocab, 0.0f);
  const int argmax[] = {3, 4, 3, 1, 2};
  for (int row = 0; row < 5; ++row) logits[row * vocab + argmax[row]] = 1.0f;
  ClassAccuracy accuracy;
  ScoreFillIn(queries, logits, vocab, accuracy);
  EXPECT_EQ(accuracy.by_class["content"].right, 1);
  EXPECT_EQ(accuracy.by_class["content"].count, 2);
  EXPECT_EQ(accuracy.by_class["function"].right, 1);
  EXPECT_EQ(accuracy.overall.right, 2);
}

TEST(FillInZh, WordPieceGivesEachKnownCharacterAQuery) {
  std::unique_ptr<data::Tokenizer> bert = tasks::testing::SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  // bert-base-uncased knows 我 北 京 有 三 人 。 but not 们 在 个.
  absl::StatusOr<ChineseFillIn> zh = ChineseFillInQueries({"我们在北京有三个人。"}, *bert, 64);
  ASSERT_TRUE(zh.ok()) << zh.status();
  ASSERT_EQ(zh->features.size(), 1u);
  EXPECT_EQ(zh->features[0].input_ids.front(), bert->cls_id());
  EXPECT_EQ(zh->features[0].input_ids.size(), 12u);  // [CLS] 10 characters [SEP]
  EXPECT_EQ(zh->unknown, 3);
  EXPECT_EQ(zh->in_longer_pieces, 0);
  std::vector<std::string> classes;
  std::vector<int32_t> positions;
  for (const FillInQuery& q : zh->queries) {
    EXPECT_EQ(q.feature, &zh->features[0]);
    ASSERT_EQ(q.positions.size(), 1u);
    EXPECT_EQ(q.original_ids[0], zh->features[0].input_ids[q.positions[0]]);
    classes.push_back(q.word_class);
    positions.push_back(q.positions[0]);
  }
  EXPECT_THAT(classes, ElementsAre("function", "content", "content", "function", "numeral", "content", "punctuation"));
  EXPECT_THAT(positions, ElementsAre(1, 4, 5, 6, 7, 9, 10));
  EXPECT_EQ(zh->queries[1].original_ids, bert->Encode("北"));
}

TEST(FillInZh, LongSentencesAreCutIntoWindows) {
  std::unique_ptr<data::Tokenizer> bert = tasks::testing::SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  absl::StatusOr<ChineseFillIn> zh = ChineseFillInQueries({"我北京有三人。"}, *bert, 5);  // windows of 3 tokens
  ASSERT_TRUE(zh.ok()) << zh.status();
  ASSERT_EQ(zh->features.size(), 3u);
  ASSERT_EQ(zh->queries.size(), 7u);
  for (size_t i = 0; i < 7; ++i) {
    EXPECT_EQ(zh->queries[i].feature, &zh->features[i / 3]) << i;
    EXPECT_THAT(zh->queries[i].positions, ElementsAre(static_cast<int32_t>(i % 3 + 1))) << i;
  }
  EXPECT_EQ(ChineseFillInQueries({"我"}, *bert, 2).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(FillInZh, AnEnglishSentencePieceAsksNoHanCharacter) {
  std::unique_ptr<data::Tokenizer> albert = tasks::testing::SharedTokenizer("albert");
  ASSERT_NE(albert, nullptr);
  // ALBERT's English model has no Han pieces: each run of them is one unknown piece. The
  // full-width comma, normalised to ",", is a piece of its own.
  absl::StatusOr<ChineseFillIn> zh = ChineseFillInQueries({"锣鼓经是传统器乐，我们在北京。"}, *albert, 64);
  ASSERT_TRUE(zh.ok()) << zh.status();
  ASSERT_EQ(zh->queries.size(), 1u);
  EXPECT_EQ(zh->queries[0].word_class, "punctuation");
  ASSERT_EQ(zh->queries[0].original_ids.size(), 1u);
  EXPECT_EQ(albert->IdToPiece(zh->queries[0].original_ids[0]), ",");
  EXPECT_EQ(zh->in_longer_pieces, 14);
  EXPECT_EQ(zh->unknown, 0);
}

TEST(FillInZh, ReadsSentencesAndNamesABadLine) {
  const std::string path = ::testing::TempDir() + "/zh.txt";
  std::ofstream(path) << "跳过的一行。\n第一句。第二句！\nEnglish only.\n\xff\xfe 坏\n（）。第三句\n";
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<std::string>> sentences = ReadChineseSentences(path, 1, {}, &stats);
  ASSERT_FALSE(sentences.ok());
  EXPECT_THAT(sentences.status().message(), HasSubstr(path + ":4: not valid UTF-8"));
  EXPECT_EQ(stats.lines, 0) << "a failed read leaves the stats alone";
  sentences = ReadChineseSentences(path, 1, {.skip_bad_lines = true}, &stats);
  ASSERT_TRUE(sentences.ok()) << sentences.status();
  EXPECT_THAT(*sentences, ElementsAre("第一句。", "第二句！", "第三句"));
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.examples, 3);
  EXPECT_EQ(ReadChineseSentences(path, 5, {}, nullptr).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadChineseSentences(path + ".missing", 0, {}, nullptr).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cloze::probe
