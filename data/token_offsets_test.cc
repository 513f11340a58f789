// EncodeWithOffsets of both tokenizers against Hugging Face's fast tokenizers' offset mapping
// on the committed fixtures (data/testing/generate_offset_fixtures.py), the conventions where
// cloze chooses differently, and the alignment helper underneath.
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_join.h"
#include "data/aligned_text.h"
#include "data/albert_normalizer.h"
#include "data/icu_normalizers.h"
#include "data/testing/offset_fixtures.h"
#include "data/testing/shared_data.h"
#include "data/tokenizer.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

constexpr char kFixtures[] = "data/testdata/offset_fixtures.jsonl";

std::unique_ptr<Tokenizer> Load(const std::string& kind, const std::string& file) {
  absl::StatusOr<std::string> path = testing::SharedDataPath(file);
  EXPECT_TRUE(path.ok()) << path.status();
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(kind + ":" + path.value_or(""));
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  return tokenizer.ok() ? *std::move(tokenizer) : nullptr;
}
std::unique_ptr<Tokenizer> Albert(const std::string& kind = "spm-albert") {
  return Load(kind, "vocab/albert-base-v2-spiece.model");
}
std::unique_ptr<Tokenizer> Bert() { return Load("wordpiece", "vocab/bert-base-uncased-vocab.txt"); }

std::vector<testing::OffsetFixtureCase> Fixtures() {
  absl::StatusOr<std::vector<testing::OffsetFixtureCase>> cases = testing::ReadOffsetFixtures(kFixtures);
  EXPECT_TRUE(cases.ok()) << cases.status();
  return cases.value_or(std::vector<testing::OffsetFixtureCase>{});
}

// The pieces and the text each span cuts, e.g. "▁the=the (=( ▁=".
std::string Show(const Tokenizer& tokenizer, std::string_view text) {
  std::vector<std::string> parts;
  for (const TokenSpan& t : tokenizer.EncodeWithOffsets(text)) {
    parts.push_back(tokenizer.IdToPiece(t.id) + "=" + std::string(text.substr(t.begin, t.end - t.begin)));
  }
  return absl::StrJoin(parts, " ");
}

std::vector<std::pair<size_t, size_t>> Spans(const Tokenizer& tokenizer, std::string_view text) {
  std::vector<std::pair<size_t, size_t>> spans;
  for (const TokenSpan& t : tokenizer.EncodeWithOffsets(text)) spans.emplace_back(t.begin, t.end);
  return spans;
}

TEST(TokenOffsetsTest, AlbertEqualsAlbertTokenizerFast) {
  const auto tokenizer = Albert();
  ASSERT_NE(tokenizer, nullptr);
  const auto cases = Fixtures();
  ASSERT_GT(cases.size(), 100u);
  const auto failures = testing::CompareOffsetsWithFixtures(*tokenizer, cases, "albert");
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures:\n" << absl::StrJoin(failures, "\n");
}

TEST(TokenOffsetsTest, WordPieceEqualsBertTokenizerFast) {
  const auto tokenizer = Bert();
  ASSERT_NE(tokenizer, nullptr);
  const auto cases = Fixtures();
  ASSERT_GT(cases.size(), 100u);
  const auto failures = testing::CompareOffsetsWithFixtures(*tokenizer, cases, "bert");
  EXPECT_TRUE(failures.empty()) << failures.size() << " failures:\n" << absl::StrJoin(failures, "\n");
}

// The documented choice: a piece that is only the "▁" marker has the empty span at the start
// of its word's first character (Hugging Face: that character's span).
TEST(TokenOffsetsTest, ALoneBoundaryMarkerHasAnEmptySpanAtItsWord) {
  const auto tokenizer = Albert();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(Show(*tokenizer, "(a) the"), "▁= (=( a=a )=) ▁the=the");
  EXPECT_EQ(Spans(*tokenizer, "(a) the").front(), (std::pair<size_t, size_t>{0, 0}));
  // After leading whitespace: at the word, not at the text's start; <unk> covers both characters.
  EXPECT_EQ(Spans(*tokenizer, " \xE4\xB8\xAD\xE6\x96\x87 x"),
            (std::vector<std::pair<size_t, size_t>>{{1, 1}, {1, 7}, {8, 9}}));
}

TEST(TokenOffsetsTest, DoubledQuotesCoverBothCharacters) {
  const auto tokenizer = Albert();
  ASSERT_NE(tokenizer, nullptr);
  EXPECT_EQ(Show(*tokenizer, "``hi'' there"), "▁= \"=`` hi=hi \"='' ▁there=there");
}

TEST(TokenOffsetsTest, NormalisedCharactersMapToTheOriginalOnes) {
  const auto albert = Albert();
  const auto bert = Bert();
  ASSERT_NE(albert, nullptr);
  ASSERT_NE(bert, nullptr);
  // Accents stripped, capitals lowered, a ligature expanded: spans hold the original text.
  EXPECT_EQ(Show(*albert, "Café  ﬁne"), "▁cafe=Café ▁fine=ﬁne");
  EXPECT_EQ(Show(*bert, "Café  RÉSUMÉ"), "cafe=Café resume=RÉSUMÉ");
  // A combining mark after its base is removed and belongs to no span at the word's end.
  EXPECT_EQ(Show(*bert, "cafe\xCC\x81 x"), "cafe=cafe x=x");
  // Each CJK character is a token; an uncoverable word is one [UNK] over all of it.
  EXPECT_EQ(Show(*bert, "中文 \xF0\x9F\xA4\x97\xF0\x9F\xA4\x97"), "中=中 文=文 [UNK]=\xF0\x9F\xA4\x97\xF0\x9F\xA4\x97");
}

// Invalid UTF-8 cannot be written to the JSON fixture; here only the contract: Encode's ids,
// spans in order and within the text.
TEST(TokenOffsetsTest, EveryTokenizerKeepsTheContractOnAnyText) {
  std::vector<std::string> texts = {"bad \xFF\xFE bytes \xE4\xB8", "\xC3", "x\xF0\x9F\x98", "", " "};
  for (const auto& c : Fixtures()) texts.push_back(c.text);
  for (const auto& tokenizer : {Albert(), Albert("spm"), Bert()}) {
    ASSERT_NE(tokenizer, nullptr);
    for (const std::string& text : texts) {
      const std::vector<TokenSpan> tokens = tokenizer->EncodeWithOffsets(text);
      std::vector<int32_t> ids;
      size_t last_begin = 0;
      for (const TokenSpan& t : tokens) {
        ids.push_back(t.id);
        EXPECT_LE(t.begin, t.end) << text;
        EXPECT_LE(t.end, text.size()) << text;
        EXPECT_GE(t.begin, last_begin) << text;
        last_begin = t.begin;
      }
      EXPECT_EQ(ids, tokenizer->Encode(text)) << tokenizer->Fingerprint() << ": " << text;
    }
  }
}

// "spm:" has no Hugging Face counterpart; on text that ALBERT's normaliser leaves as it is, it
// must agree with "spm-albert:", and elsewhere trim the same way (no whitespace in a span).
TEST(TokenOffsetsTest, PlainSentencePieceFollowsTheSameConventions) {
  const auto plain = Albert("spm");
  const auto albert = Albert();
  ASSERT_NE(plain, nullptr);
  ASSERT_NE(albert, nullptr);
  for (const char* text : {"the cat sat (on) a mat.", "x - y, 2 \xE4\xB8\xAD"}) {
    EXPECT_EQ(plain->EncodeWithOffsets(text), albert->EncodeWithOffsets(text)) << text;
  }
  EXPECT_EQ(Show(*plain, "  the \t cat\x01 "), "▁the=the ▁cat=cat");
  // SentencePiece's own NFKC expands "½"; every piece of it covers it.
  EXPECT_EQ(Show(*plain, "x \xC2\xBD"), "▁x=x ▁1=\xC2\xBD <unk>=\xC2\xBD 2=\xC2\xBD");
}

TEST(TokenOffsetsTest, EncodeWithOffsetsIsThreadSafe) {
  const auto cases = Fixtures();
  ASSERT_FALSE(cases.empty());
  for (const auto& tokenizer : {Albert(), Bert()}) {
    ASSERT_NE(tokenizer, nullptr);
    std::vector<std::vector<TokenSpan>> want;
    for (const auto& c : cases) want.push_back(tokenizer->EncodeWithOffsets(c.text));
    std::atomic<int> differences{0};
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (size_t i = 0; i < cases.size(); ++i) {
          const size_t k = (i + t * cases.size() / 4) % cases.size();
          if (tokenizer->EncodeWithOffsets(cases[k].text) != want[k]) differences.fetch_add(1);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    EXPECT_EQ(differences.load(), 0) << tokenizer->Fingerprint();
  }
}

// The aligned decomposition is ICU's NFD/NFKD as text, whatever the order of marks.
TEST(AlignedTextTest, DecomposeAlignedEqualsIcu) {
  std::vector<std::string> texts = {"a\u0301\u0323 o\u0328\u0301 \u1e69\u0307 \uac01 \ufb01 \u00bd",
                                    "e\u0301\u0301\u0327x"};
  for (const auto& c : Fixtures()) texts.push_back(c.text);
  for (const icu::Normalizer2* normalizer : {&NfdNormalizer(), &NfkdNormalizer()}) {
    for (const std::string& text : texts) {
      UErrorCode status = U_ZERO_ERROR;
      std::string want;
      normalizer->normalize(icu::UnicodeString::fromUTF8(text), status).toUTF8String(want);
      ASSERT_TRUE(U_SUCCESS(status));
      AlignedText got;
      for (const AlignedChar& a : DecomposeAligned(*normalizer, AlignedCodePoints(text))) {
        got.Append(a.c, a.origin);
      }
      EXPECT_EQ(got.text(), want) << text;
    }
  }
}

TEST(AlignedTextTest, OriginsCoverWholeCharacters) {
  const std::string text = "A\xC3\xA9 ``x";  // "Aé ``x"
  const AlignedText normalized = AlbertNormalizeAligned(text);
  EXPECT_EQ(normalized.text(), "ae \"x");
  EXPECT_EQ(normalized.OriginOf(1, 2, text.size()), (ByteSpan{1, 3}));   // e from é
  EXPECT_EQ(normalized.OriginOf(3, 4, text.size()), (ByteSpan{4, 6}));   // " from ``
  EXPECT_EQ(normalized.OriginOf(0, 5, text.size()), (ByteSpan{0, 7}));
  EXPECT_EQ(normalized.OriginOf(5, 5, text.size()), (ByteSpan{7, 7}));   // the end
  EXPECT_EQ(normalized.OriginOf(4, 4, text.size()), (ByteSpan{6, 6}));
}

}  // namespace
}  // namespace cloze::data
