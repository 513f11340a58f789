// WordPiece against Hugging Face's BertTokenizer (uncased) on the committed fixtures, the
// greedy algorithm on a toy vocabulary, and vocabulary errors.
#include "data/wordpiece_tokenizer.h"

#include <string>

#include "absl/strings/str_join.h"
#include "data/bert_basic_tokenizer.h"
#include "data/testing/shared_data.h"
#include "data/testing/tokenizer_fixtures.h"
#include "data/tokenizer.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

constexpr char kFixtures[] = "data/testdata/tokenizer_fixtures.jsonl";

std::unique_ptr<Tokenizer> LoadBert() {
  absl::StatusOr<std::string> path = testing::SharedDataPath("vocab/bert-base-uncased-vocab.txt");
  EXPECT_TRUE(path.ok()) << path.status();
  if (!path.ok()) return nullptr;
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer("wordpiece:" + *path);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
}

std::vector<testing::FixtureCase> Fixtures() {
  absl::StatusOr<std::vector<testing::FixtureCase>> cases =
      testing::ReadTokenizerFixtures(kFixtures);
  EXPECT_TRUE(cases.ok()) << cases.status();
  return cases.value_or(std::vector<testing::FixtureCase>{});
}

std::unique_ptr<WordPieceTokenizer> Toy(const std::string& vocab) {
  absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> tokenizer =
      WordPieceTokenizer::Create(vocab, "toy");
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
}

constexpr char kToyVocab[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nun\nunaff\n##aff\n##able\n##a\n"
    "##ff\na\n##b\n.\n";  // ids 0..13

TEST(WordPieceTokenizerTest, EqualsHuggingFaceBertTokenizer) {
  const auto tokenizer = LoadBert();
  ASSERT_NE(tokenizer, nullptr);
  const auto cases = Fixtures();
  ASSERT_FALSE(cases.empty());
  const std::vector<std::string> failures = testing::CompareWithFixtures(*tokenizer, cases, "bert");
  EXPECT_TRUE(failures.empty()) << failures.size() << " mismatches:\n"
                                << absl::StrJoin(failures, "\n");
}

TEST(WordPieceTokenizerTest, BertUncasedLayout) {
  const auto tokenizer = LoadBert();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->vocab_size(), 30522);
  EXPECT_EQ(tokenizer->pad_id(), 0);
  EXPECT_EQ(tokenizer->unk_id(), 100);
  EXPECT_EQ(tokenizer->cls_id(), 101);
  EXPECT_EQ(tokenizer->sep_id(), 102);
  EXPECT_EQ(tokenizer->mask_id(), 103);
  EXPECT_EQ(tokenizer->IdToPiece(30521), "##～");
}

TEST(WordPieceTokenizerTest, GreedyLongestMatchFirst) {
  const auto toy = Toy(kToyVocab);
  ASSERT_NE(toy, nullptr);
  // "unaff" beats "un" + "##aff"; then "##able".
  EXPECT_EQ(toy->Encode("unaffable"), (std::vector<int32_t>{6, 8}));
  EXPECT_EQ(toy->Encode("affb"), (std::vector<int32_t>{11, 10, 12}));  // a ##ff ##b
  // One uncoverable rest makes the whole word a single [UNK], not "unaff" + [UNK].
  EXPECT_EQ(toy->Encode("unaffx ."), (std::vector<int32_t>{1, 13}));
}

TEST(WordPieceTokenizerTest, WordsOverOneHundredCodePointsAreUnknown) {
  // "ß" has two bytes, no decomposition and is lower-case: the limit counts code points.
  const auto toy = Toy(std::string(kToyVocab) + "\xC3\x9F\n##\xC3\x9F\n");  // ids 14, 15
  ASSERT_NE(toy, nullptr);
  std::string word;
  for (int i = 0; i < 100; ++i) word += "\xC3\x9F";
  std::vector<int32_t> want(100, 15);
  want[0] = 14;
  EXPECT_EQ(toy->Encode(word), want);
  EXPECT_EQ(toy->Encode(word + "\xC3\x9F"), (std::vector<int32_t>{1}));
  EXPECT_EQ(toy->Encode(std::string(101, 'a')), (std::vector<int32_t>{1}));
}

TEST(WordPieceTokenizerTest, WordStartsAndDecode) {
  const auto toy = Toy(kToyVocab);
  ASSERT_NE(toy, nullptr);
  EXPECT_TRUE(toy->IsWordStart(6));   // unaff
  EXPECT_FALSE(toy->IsWordStart(8));  // ##able
  EXPECT_TRUE(toy->IsWordStart(4));   // [MASK]
  EXPECT_TRUE(toy->IsWordStart(99));  // out of range
  EXPECT_EQ(toy->Decode({2, 6, 8, 4, 13, 3, 99}), "[CLS] unaffable [MASK] . [SEP] <id 99?>");
}

TEST(WordPieceTokenizerTest, VocabularyErrorsNameTheSourceAndLine) {
  struct Case {
    std::string vocab, message;
  };
  for (const Case& c : {Case{"[PAD]\n[UNK]\n[CLS]\n[SEP]\n", "has no [MASK]"},
                        Case{"[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nx\nx\n", "toy:7: \"x\" repeats"},
                        Case{"[PAD]\n[UNK]\n\n[CLS]\n[SEP]\n[MASK]\n", "toy:3: empty line"}}) {
    const auto tokenizer = WordPieceTokenizer::Create(c.vocab, "toy");
    ASSERT_FALSE(tokenizer.ok()) << c.vocab;
    EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(tokenizer.status().message().find(c.message), std::string::npos)
        << tokenizer.status();
  }
  // Windows line ends are accepted.
  const auto crlf = Toy("[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\n[MASK]\r\nhello\r\n");
  ASSERT_NE(crlf, nullptr);
  EXPECT_EQ(crlf->Encode("Hello"), (std::vector<int32_t>{5}));
}

TEST(BertBasicTokenizeTest, SplitsAsBert) {
  std::vector<std::string> tokens;
  BertBasicTokenize("Héllo,\tWORLD!\u00a0Don't 中文 x\x01y ≠",
                    [&](const AlignedText& t) { tokens.push_back(t.text()); });
  EXPECT_EQ(tokens, (std::vector<std::string>{"hello", ",", "world", "!", "don", "'", "t", "中",
                                              "文", "xy", "="}));
}

TEST(WordPieceTokenizerTest, EncodeIsThreadSafe) {
  const auto tokenizer = LoadBert();
  ASSERT_NE(tokenizer, nullptr);
  std::vector<std::string> texts;
  for (const testing::FixtureCase& c : Fixtures()) texts.push_back(c.text);
  ASSERT_FALSE(texts.empty());
  EXPECT_EQ(testing::CountConcurrentEncodeDifferences(*tokenizer, texts, 8, 3), 0);
}

}  // namespace
}  // namespace cloze::data
