// LoadTokenizer's specs and errors, and fingerprints.
#include "data/tokenizer.h"

#include <filesystem>

#include "util/sha256.h"
#include "data/testing/shared_data.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

// The shared files are fixed; the fixtures and these digests pin them.
constexpr char kAlbertModelSha256[] =
    "fefb02b667a6c5c2fe27602d28e5fb3428f66ab89c7d6f388e7c8d44a02d0336";
constexpr char kBertVocabSha256[] =
    "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3";

std::string Shared(const std::string& relative) {
  absl::StatusOr<std::string> path = testing::SharedDataPath(relative);
  EXPECT_TRUE(path.ok()) << path.status();
  return path.value_or("");
}

std::string FingerprintOf(const std::string& spec) {
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(spec);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? (*tokenizer)->Fingerprint() : "";
}

TEST(Sha256Test, KnownDigests) {
  EXPECT_EQ(util::Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(util::Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(LoadTokenizerTest, FingerprintsNameKindOptionsAndFileDigest) {
  const std::string albert = Shared("vocab/albert-base-v2-spiece.model");
  const std::string bert = Shared("vocab/bert-base-uncased-vocab.txt");
  EXPECT_EQ(FingerprintOf("spm:" + albert), std::string("spm:plain:sha256:") + kAlbertModelSha256);
  EXPECT_EQ(FingerprintOf("spm-albert:" + albert),
            std::string("spm:albert:sha256:") + kAlbertModelSha256);
  EXPECT_EQ(FingerprintOf("wordpiece:" + bert),
            std::string("wordpiece:uncased:sha256:") + kBertVocabSha256);
  // Stable: a second load, and the same bytes under another path, give the same.
  const std::string copy = std::string(std::getenv("TEST_TMPDIR")) + "/copy.model";
  std::filesystem::copy_file(albert, copy, std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(FingerprintOf("spm:" + copy), FingerprintOf("spm:" + albert));
}

TEST(LoadTokenizerTest, BadSpecsAreInvalidArgumentsNamingTheSpec) {
  for (const std::string spec :
       {"", "spm", "spm:", "bpe:/x/vocab.txt", "spm-train:30000", "SPM:/x"}) {
    const auto tokenizer = LoadTokenizer(spec);
    ASSERT_FALSE(tokenizer.ok()) << spec;
    EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kInvalidArgument) << spec;
    EXPECT_NE(tokenizer.status().message().find("\"" + spec + "\""), std::string::npos)
        << tokenizer.status();
  }
}

TEST(LoadTokenizerTest, MissingFilesAreNotFoundNamingSpecAndFile) {
  const std::string folder = std::getenv("TEST_TMPDIR");
  for (const std::string& spec :
       std::vector<std::string>{"wordpiece:/nonexistent/vocab.txt", "spm:/nonexistent/x.model",
                                "spm-albert:" + folder}) {
    const auto tokenizer = LoadTokenizer(spec);
    ASSERT_FALSE(tokenizer.ok()) << spec;
    EXPECT_EQ(tokenizer.status().code(), absl::StatusCode::kNotFound) << tokenizer.status();
    EXPECT_NE(tokenizer.status().message().find(spec), std::string::npos) << tokenizer.status();
  }
}

TEST(LoadTokenizerTest, AVocabularyIsNotAModelNorTheOtherWayRound) {
  const auto spm = LoadTokenizer("spm:" + Shared("vocab/bert-base-uncased-vocab.txt"));
  ASSERT_FALSE(spm.ok());
  EXPECT_EQ(spm.status().code(), absl::StatusCode::kDataLoss) << spm.status();
  // A .model read as vocab.txt lacks the BERT special lines (its bytes are binary).
  const auto wordpiece = LoadTokenizer("wordpiece:" + Shared("vocab/albert-base-v2-spiece.model"));
  ASSERT_FALSE(wordpiece.ok());
  EXPECT_EQ(wordpiece.status().code(), absl::StatusCode::kInvalidArgument) << wordpiece.status();
}

}  // namespace
}  // namespace cloze::data
