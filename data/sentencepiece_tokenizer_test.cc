// SentencePiece through cloze against Python's sentencepiece ("spm:") and Hugging Face's
// AlbertTokenizer ("spm-albert:") on the committed fixtures, plus the contract of the class.
#include "data/sentencepiece_tokenizer.h"

#include <fstream>

#include "absl/strings/str_join.h"
#include "data/read_file.h"
#include "data/testing/shared_data.h"
#include "data/testing/tokenizer_fixtures.h"
#include "data/tokenizer.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

constexpr char kFixtures[] = "data/testdata/tokenizer_fixtures.jsonl";

std::string AlbertModel() {
  absl::StatusOr<std::string> path = testing::SharedDataPath("vocab/albert-base-v2-spiece.model");
  EXPECT_TRUE(path.ok()) << path.status();
  return path.value_or("");
}

std::unique_ptr<Tokenizer> Load(const std::string& kind) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(kind + ":" + AlbertModel());
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
}

std::vector<testing::FixtureCase> Fixtures() {
  absl::StatusOr<std::vector<testing::FixtureCase>> cases =
      testing::ReadTokenizerFixtures(kFixtures);
  EXPECT_TRUE(cases.ok()) << cases.status();
  return cases.value_or(std::vector<testing::FixtureCase>{});
}

TEST(SentencePieceTokenizerTest, PlainEqualsPythonSentencePiece) {
  const auto tokenizer = Load("spm");
  ASSERT_NE(tokenizer, nullptr);
  const auto cases = Fixtures();
  ASSERT_FALSE(cases.empty());
  const std::vector<std::string> failures = testing::CompareWithFixtures(*tokenizer, cases, "spm");
  EXPECT_TRUE(failures.empty()) << failures.size() << " mismatches:\n"
                                << absl::StrJoin(failures, "\n");
}

// spm-albert is SentencePiece on the text as Hugging Face's AlbertTokenizer normalises it:
// equal everywhere. Against AlbertTokenizer itself and ALBERT's own tokenization.py it differs
// only where those differ from that (the cases the fixture marks, each with its reason).
TEST(SentencePieceTokenizerTest, AlbertEqualsSentencePieceOnAlbertNormalisedText) {
  const auto tokenizer = Load("spm-albert");
  ASSERT_NE(tokenizer, nullptr);
  const auto cases = Fixtures();
  ASSERT_FALSE(cases.empty());
  for (const char* reference : {"albert_spm", "albert", "albert_google"}) {
    const std::vector<std::string> failures =
        testing::CompareWithFixtures(*tokenizer, cases, reference);
    EXPECT_TRUE(failures.empty()) << reference << ": " << failures.size() << " failures:\n"
                                  << absl::StrJoin(failures, "\n");
  }
}

TEST(SentencePieceTokenizerTest, OfficialAlbertLayout) {
  const auto tokenizer = Load("spm");
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(tokenizer->vocab_size(), 30000);
  EXPECT_EQ(tokenizer->pad_id(), 0);
  EXPECT_EQ(tokenizer->unk_id(), 1);
  EXPECT_EQ(tokenizer->cls_id(), 2);
  EXPECT_EQ(tokenizer->sep_id(), 3);
  EXPECT_EQ(tokenizer->mask_id(), 4);
  EXPECT_EQ(tokenizer->IdToPiece(4), "[MASK]");
  EXPECT_EQ(tokenizer->IdToPiece(30000), "<id 30000?>");
}

TEST(SentencePieceTokenizerTest, WordStartsAreThePiecesWithTheBoundaryMark) {
  const auto tokenizer = Load("spm-albert");
  ASSERT_NE(tokenizer, nullptr);
  // "▁un", "believ", "able": one word in three pieces.
  const std::vector<int32_t> ids = tokenizer->Encode("unbelievable tokenization");
  ASSERT_GE(ids.size(), 3u);
  int starts = 0;
  for (int32_t id : ids) {
    const bool marked = tokenizer->IdToPiece(id).rfind("\xE2\x96\x81", 0) == 0;
    EXPECT_EQ(tokenizer->IsWordStart(id), marked) << tokenizer->IdToPiece(id);
    starts += tokenizer->IsWordStart(id);
  }
  EXPECT_EQ(starts, 2);
  EXPECT_LT(starts, static_cast<int>(ids.size()));
  for (int32_t id : {tokenizer->pad_id(), tokenizer->unk_id(), tokenizer->cls_id(),
                     tokenizer->sep_id(), tokenizer->mask_id(), -1, 30000}) {
    EXPECT_TRUE(tokenizer->IsWordStart(id)) << id;
  }
}

TEST(SentencePieceTokenizerTest, DecodeShowsSpecialPieces) {
  const auto tokenizer = Load("spm-albert");
  ASSERT_NE(tokenizer, nullptr);
  std::vector<int32_t> ids = {tokenizer->cls_id()};
  for (int32_t id : tokenizer->Encode("The Cat sat.")) ids.push_back(id);
  ids.push_back(tokenizer->mask_id());
  ids.push_back(tokenizer->sep_id());
  ids.push_back(123456);
  EXPECT_EQ(tokenizer->Decode(ids), "[CLS] the cat sat. [MASK] [SEP] <id 123456?>");
}

TEST(SentencePieceTokenizerTest, ControlPiecesInTextAreText) {
  const auto tokenizer = Load("spm");
  ASSERT_NE(tokenizer, nullptr);
  const std::vector<int32_t> ids = tokenizer->Encode("[CLS] [MASK] <pad> [SEP]");
  EXPECT_GT(ids.size(), 4u);
  for (int32_t id : ids) {
    for (int32_t special :
         {tokenizer->pad_id(), tokenizer->cls_id(), tokenizer->sep_id(), tokenizer->mask_id()}) {
      EXPECT_NE(id, special) << tokenizer->IdToPiece(id);
    }
  }
}

TEST(SentencePieceTokenizerTest, CorruptModelIsDataLossNamingTheSpec) {
  const std::string dir = std::getenv("TEST_TMPDIR");
  absl::StatusOr<std::string> model = ReadFile(AlbertModel());
  ASSERT_TRUE(model.ok()) << model.status();
  const std::string truncated = dir + "/truncated.model";
  std::ofstream(truncated, std::ios::binary) << model->substr(0, model->size() / 2);
  const std::string text = dir + "/text.model";
  std::ofstream(text) << "this is not a protocol buffer\n";
  for (const std::string& path : {truncated, text}) {
    const auto tokenizer = LoadTokenizer("spm:" + path);
    ASSERT_FALSE(tokenizer.ok()) << path;
    EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kDataLoss) << tokenizer.status();
    EXPECT_NE(tokenizer.status().message().find("spm:" + path), std::string::npos)
        << tokenizer.status();
  }
}

TEST(SentencePieceTokenizerTest, ModelWithoutSpecialPiecesIsRefused) {
  const std::string spec = "spm:data/testdata/no_special_pieces.model";
  const auto tokenizer = LoadTokenizer(spec);
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(tokenizer.status().message().find(spec + ": the model has no [CLS] piece"),
            std::string::npos)
      << tokenizer.status();
}

TEST(SentencePieceTokenizerTest, EncodeIsThreadSafe) {
  std::vector<std::string> texts;
  for (const testing::FixtureCase& c : Fixtures()) texts.push_back(c.text);
  ASSERT_FALSE(texts.empty());
  for (const char* kind : {"spm", "spm-albert"}) {
    const auto tokenizer = Load(kind);
    ASSERT_NE(tokenizer, nullptr);
    EXPECT_EQ(testing::CountConcurrentEncodeDifferences(*tokenizer, texts, 8, 3), 0) << kind;
  }
}

}  // namespace
}  // namespace cloze::data
