// Tagging features: labels on first sub-tokens only, words that tokenize to nothing, every
// UD English-EWT dev sentence with both tokenizers (one labelled token per word), and long
// sentences split into whole-word windows without losing or repeating a word.
#include "tasks/tagging_features.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/conllu.h"
#include "tasks/testing/test_files.h"
#include "tasks/testing/test_tokenizers.h"

namespace cloze::tasks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SharedFile;
using testing::SharedTokenizer;

constexpr int32_t I = kIgnoredLabel;

TEST(TaggingFeatures, FirstSubTokenCarriesTheTag) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  // "unaffable" is una ##ffa ##ble in BERT's uncased vocabulary.
  TaggedSentence sentence{.id = "s1",
                          .line = 3,
                          .words = {"He", "is", "unaffable", "."},
                          .tags = {"PRON", "AUX", "ADJ", "PUNCT"}};
  const std::vector<std::string> tags = UniversalPosTags();
  absl::StatusOr<std::vector<TaggingFeature>> features =
      TaggingFeatures(sentence, 7, tags, *bert, 128);
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 1u);
  const TaggingFeature& f = features->front();
  EXPECT_EQ(f.example_index, 7);
  EXPECT_EQ(f.first_word, 0);
  EXPECT_EQ(f.num_words, 4);
  ASSERT_EQ(f.input_ids.size(), 8u) << "[CLS] he is una ##ffa ##ble . [SEP]";
  EXPECT_EQ(bert->IdToPiece(f.input_ids[3]), "una");
  EXPECT_EQ(bert->IdToPiece(f.input_ids[4]), "##ffa");
  EXPECT_EQ(bert->IdToPiece(f.input_ids[5]), "##ble");
  auto tag = [&](const std::string& t) {
    return static_cast<int32_t>(*TaskSpec{.labels = tags}.LabelIndex(t));
  };
  EXPECT_THAT(f.labels, ElementsAre(I, tag("PRON"), tag("AUX"), tag("ADJ"), I, I, tag("PUNCT"), I));
  EXPECT_THAT(f.word_of_token, ElementsAre(-1, 0, 1, 2, 2, 2, 3, -1));
  EXPECT_THAT(f.is_first_subtoken, ElementsAre(false, true, true, true, false, false, true, false));
  EXPECT_THAT(f.token_type_ids, ElementsAre(0, 0, 0, 0, 0, 0, 0, 0));
  EXPECT_THAT(f.attention_mask, ElementsAre(1, 1, 1, 1, 1, 1, 1, 1));

  // Predictions come back per word from the first sub-tokens.
  absl::StatusOr<std::vector<int32_t>> words =
      WordPredictions(*features, {{90, 1, 2, 3, 91, 92, 4, 93}}, 4);
  ASSERT_TRUE(words.ok()) << words.status();
  EXPECT_THAT(*words, ElementsAre(1, 2, 3, 4));
  EXPECT_FALSE(WordPredictions(*features, {{1, 2, 3}}, 4).ok());  // fewer predictions than tokens
}

TEST(TaggingFeatures, AWordWithoutTokensBecomesUnk) {
  for (const std::string name : {"albert", "bert"}) {
    const auto tokenizer = SharedTokenizer(name);
    ASSERT_NE(tokenizer, nullptr);
    const std::string nothing = "\x01";  // a control character: both normalisers remove it
    ASSERT_TRUE(tokenizer->Encode(nothing).empty()) << name;
    TaggedSentence sentence{.words = {"a", nothing, "b"}, .tags = {"X", "SYM", "X"}};
    absl::StatusOr<std::vector<TaggingFeature>> features =
        TaggingFeatures(sentence, 0, UniversalPosTags(), *tokenizer, 16);
    ASSERT_TRUE(features.ok()) << features.status();
    ASSERT_EQ(features->size(), 1u);
    const TaggingFeature& f = features->front();
    EXPECT_EQ(std::count(f.is_first_subtoken.begin(), f.is_first_subtoken.end(), true), 3) << name;
    EXPECT_EQ(f.input_ids[2], tokenizer->unk_id()) << name;
    EXPECT_EQ(f.word_of_token[2], 1) << name;
  }
}

TEST(TaggingFeatures, UnlabelledSentencesAndErrors) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  const std::vector<std::string> tags = UniversalPosTags();
  absl::StatusOr<std::vector<TaggingFeature>> features =
      TaggingFeatures(TaggedSentence{.words = {"to", "be"}}, 0, tags, *bert, 8);
  ASSERT_TRUE(features.ok()) << features.status();
  EXPECT_THAT(features->front().labels, ElementsAre(I, I, I, I));
  EXPECT_THAT(features->front().is_first_subtoken, ElementsAre(false, true, true, false));

  TaggedSentence mismatched{.id = "s9", .line = 40, .words = {"to", "be"}, .tags = {"PART"}};
  absl::Status status = TaggingFeatures(mismatched, 0, tags, *bert, 8).status();
  EXPECT_THAT(status.message(), HasSubstr("s9 at line 40: 2 words but 1 tags"));
  TaggedSentence unknown{.id = "s10", .line = 50, .words = {"to"}, .tags = {"VERBAL"}};
  status = TaggingFeatures(unknown, 0, tags, *bert, 8).status();
  EXPECT_THAT(status.message(), HasSubstr("word 1 \"to\": tag \"VERBAL\""));
  EXPECT_FALSE(TaggingFeatures(TaggedSentence{.words = {"x"}}, 0, tags, *bert, 2).ok());
  EXPECT_TRUE(TaggingFeatures(TaggedSentence{}, 0, tags, *bert, 8)->empty());
}

// Checks one sentence's features: within max_seq_length, consecutive whole-word windows
// covering every word exactly once, one labelled first sub-token per word (the word's tag).
void ExpectEveryWordOnce(const TaggedSentence& sentence, const std::vector<std::string>& tags,
                         const std::vector<TaggingFeature>& features, int max_seq_length,
                         const std::string& where) {
  int next_word = 0;
  for (const TaggingFeature& f : features) {
    ASSERT_LE(f.input_ids.size(), static_cast<size_t>(max_seq_length)) << where;
    ASSERT_EQ(f.labels.size(), f.input_ids.size()) << where;
    ASSERT_EQ(f.word_of_token.size(), f.input_ids.size()) << where;
    ASSERT_EQ(f.first_word, next_word) << where;
    ASSERT_GT(f.num_words, 0) << where;
    int previous = -1;
    for (size_t t = 1; t + 1 < f.input_ids.size(); ++t) {
      const int32_t word = f.word_of_token[t];
      ASSERT_TRUE(word == previous || word == previous + 1 || (previous < 0 && word == next_word))
          << where << " token " << t;
      ASSERT_EQ(f.is_first_subtoken[t], word != previous) << where << " token " << t;
      if (f.is_first_subtoken[t]) {
        ASSERT_EQ(word, next_word) << where;
        ASSERT_EQ(tags[f.labels[t]], sentence.tags[word]) << where << " word " << word;
        ++next_word;
      } else {
        ASSERT_EQ(f.labels[t], kIgnoredLabel) << where;
      }
      previous = word;
    }
    ASSERT_EQ(next_word, f.first_word + f.num_words) << where;
  }
  EXPECT_EQ(next_word, static_cast<int>(sentence.words.size())) << where;
}

TEST(TaggingFeatures, EveryUdEwtDevWordIsLabelledOnceWithBothTokenizers) {
  const std::string path = SharedFile("ud-english-ewt/en_ewt-ud-dev.conllu");
  ASSERT_FALSE(path.empty());
  ReadStats stats;
  absl::StatusOr<std::vector<TaggedSentence>> sentences =
      ReadConllu(path, PosTagSet::kUpos, {}, &stats);
  ASSERT_TRUE(sentences.ok()) << sentences.status();
  const std::vector<std::string> tags = UniversalPosTags();
  for (const std::string name : {"albert", "bert"}) {
    const auto tokenizer = SharedTokenizer(name);
    ASSERT_NE(tokenizer, nullptr);
    // 128: nearly every sentence in one feature; 16: long sentences split into many.
    for (const int max_seq_length : {128, 16}) {
      absl::StatusOr<std::vector<TaggingFeature>> features =
          TaggingFeatures(*sentences, tags, *tokenizer, max_seq_length);
      ASSERT_TRUE(features.ok()) << features.status();
      std::vector<std::vector<TaggingFeature>> by_sentence(sentences->size());
      for (TaggingFeature& f : *features)
        by_sentence[static_cast<size_t>(f.example_index)].push_back(f);
      size_t split = 0, labelled = 0, words = 0;
      for (size_t s = 0; s < sentences->size(); ++s) {
        const std::string where =
            name + " max " + std::to_string(max_seq_length) + " " + (*sentences)[s].id;
        ExpectEveryWordOnce((*sentences)[s], tags, by_sentence[s], max_seq_length, where);
        if (::testing::Test::HasFatalFailure()) return;
        split += by_sentence[s].size() > 1;
        words += (*sentences)[s].words.size();
        for (const TaggingFeature& f : by_sentence[s]) {
          labelled += std::count_if(f.labels.begin(), f.labels.end(),
                                    [](int32_t l) { return l != kIgnoredLabel; });
        }
      }
      EXPECT_EQ(labelled, words) << name << " " << max_seq_length;
      EXPECT_EQ(words, 25147u);  // UD_English-EWT dev's syntactic words (as conllu_test)
      if (max_seq_length == 16) {
        EXPECT_GT(split, 500u) << name;  // the splitting path is exercised
      }
      std::cerr << name << " max_seq_length " << max_seq_length << ": " << split << " of "
                << sentences->size() << " sentences split\n";
    }
  }
}

TEST(TaggingFeatures, AWordLongerThanTheWindowKeepsItsFirstPieces) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  TaggedSentence sentence{.words = {"a", "antidisestablishmentarianism", "b"},
                          .tags = {"X", "NOUN", "X"}};
  ASSERT_GT(bert->Encode(sentence.words[1]).size(), 3u);
  absl::StatusOr<std::vector<TaggingFeature>> features =
      TaggingFeatures(sentence, 0, UniversalPosTags(), *bert, 5);
  ASSERT_TRUE(features.ok()) << features.status();
  ASSERT_EQ(features->size(), 3u);  // [a] [antidisestablishmentarianism cut to 3] [b]
  ExpectEveryWordOnce(sentence, UniversalPosTags(), *features, 5, "long word");
  EXPECT_EQ((*features)[1].input_ids.size(), 5u);
}

}  // namespace
}  // namespace cloze::tasks
