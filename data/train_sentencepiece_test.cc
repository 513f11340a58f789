// TrainSentencePiece on a real English sample: loadable, ALBERT's layout, deterministic.
#include "data/train_sentencepiece.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "data/read_file.h"
#include "data/testing/shared_data.h"
#include "data/tokenizer.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

constexpr int kVocabSize = 1000;

// The first 600 non-blank lines of wikitext-2's test split, lower-cased like ALBERT's corpus.
std::vector<std::string> Sample() {
  absl::StatusOr<std::string> path = testing::SharedDataPath("wikitext-2-raw/wiki.test.raw");
  EXPECT_TRUE(path.ok()) << path.status();
  std::vector<std::string> sentences;
  std::ifstream file(path.value_or(""));
  for (std::string line; sentences.size() < 600 && std::getline(file, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    sentences.push_back(absl::AsciiStrToLower(line));
  }
  EXPECT_EQ(sentences.size(), 600u);
  return sentences;
}

std::string Prefix(const std::string& name) {
  return std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
}

TEST(TrainSentencePieceTest, TrainsAnAlbertLayoutModelDeterministically) {
  const std::vector<std::string> sample = Sample();
  ASSERT_FALSE(sample.empty());
  // The model records its own prefix, so both trainings write to the same one.
  const std::string prefix = Prefix("model");
  ASSERT_TRUE(TrainSentencePiece(sample, kVocabSize, prefix).ok());
  absl::StatusOr<std::string> first = ReadFile(prefix + ".model");
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(TrainSentencePiece(sample, kVocabSize, prefix).ok());
  absl::StatusOr<std::string> second = ReadFile(prefix + ".model");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(*first == *second) << "two trainings on the same sample differ";

  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer("spm:" + prefix + ".model");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status();
  const Tokenizer& t = **tokenizer;
  EXPECT_EQ(t.vocab_size(), kVocabSize);
  EXPECT_EQ(t.pad_id(), 0);
  EXPECT_EQ(t.unk_id(), 1);
  EXPECT_EQ(t.cls_id(), 2);
  EXPECT_EQ(t.sep_id(), 3);
  EXPECT_EQ(t.mask_id(), 4);
  EXPECT_EQ(t.IdToPiece(0), "<pad>");
  EXPECT_EQ(t.IdToPiece(1), "<unk>");
  const std::vector<std::string> user_defined = {"(", ")", "\"", "-", ".", "–", "£", "€"};
  for (size_t i = 0; i < user_defined.size(); ++i) EXPECT_EQ(t.IdToPiece(5 + i), user_defined[i]);

  // It segments text of its own domain without unknowns, and round-trips it.
  const std::string text = "the film was released in the united states .";
  const std::vector<int32_t> ids = t.Encode(text);
  ASSERT_FALSE(ids.empty());
  for (int32_t id : ids) EXPECT_NE(id, t.unk_id());
  EXPECT_EQ(t.Decode(ids), text);
}

TEST(TrainSentencePieceTest, RejectsImpossibleVocabularySizes) {
  const std::vector<std::string> tiny = {"a small sample", "of two sentences"};
  for (int vocab_size : {0, 5000}) {
    const absl::Status status = TrainSentencePiece(tiny, vocab_size, Prefix("tiny"));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_NE(status.message().find(Prefix("tiny")), std::string::npos) << status;
  }
}

}  // namespace
}  // namespace cloze::data
