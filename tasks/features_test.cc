// Sentence and pair features: BERT's longest-first truncation on hand-counted cases, every
// GLUE dev/test example of the shared tasks within max_seq_length with well-formed segments,
// and exact agreement with Hugging Face's fast tokenizers on 50 MRPC + 50 RTE dev pairs
// (tasks/testing/generate_pair_fixtures.py).
#include "tasks/features.h"

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tasks/glue_tasks.h"
#include "tasks/testing/test_files.h"
#include "tasks/testing/test_tokenizers.h"

namespace cloze::tasks {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SharedFile;
using testing::SharedTokenizer;
using testing::SourceFile;

std::vector<int32_t> Range(int32_t n) {
  std::vector<int32_t> v;
  for (int32_t i = 0; i < n; ++i) v.push_back(i);
  return v;
}

struct TruncationCase {
  int a, b, max_tokens;
  size_t expected_a, expected_b;
};

TEST(TruncateLongestFirst, CutsTheLongerOneTokenAtATime) {
  const TruncationCase cases[] = {
      {5, 3, 8, 5, 3},   // fits: untouched
      {5, 3, 6, 3, 3},   // only a is cut, down to b's length
      {3, 7, 6, 3, 3},   // only b is cut
      {10, 2, 5, 3, 2},  // a takes all the cut
      {4, 4, 5, 3, 2},   // equal: b loses first, then a, then b -> a keeps the odd token
      {8, 10, 5, 3, 2},  // both cut, odd budget: a keeps the extra token (HF fast: b)
      {8, 10, 6, 3, 3},  // both cut, even budget: halves
      {1, 9, 0, 0, 0},
  };
  for (const TruncationCase& c : cases) {
    std::vector<int32_t> a = Range(c.a), b = Range(c.b);
    TruncateLongestFirst(&a, &b, static_cast<size_t>(c.max_tokens));
    EXPECT_EQ(a.size(), c.expected_a) << c.a << "+" << c.b << " into " << c.max_tokens;
    EXPECT_EQ(b.size(), c.expected_b) << c.a << "+" << c.b << " into " << c.max_tokens;
    EXPECT_EQ(a, Range(static_cast<int32_t>(a.size())));  // the tail goes, the head stays
  }
  std::vector<int32_t> single = Range(10);
  TruncateLongestFirst(&single, nullptr, 4);
  EXPECT_EQ(single, Range(4));
}

TEST(SentenceFeature, LayoutAndHandCountedTruncation) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  SentenceExample single{.guid = "dev-1", .text_a = "the cat sat", .label = 1};
  absl::StatusOr<SequenceFeature> f = SentenceFeature(single, *bert, 128);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->input_ids, ElementsAre(101, 1996, 4937, 2938, 102));  // [CLS] the cat sat [SEP]
  EXPECT_THAT(f->token_type_ids, ElementsAre(0, 0, 0, 0, 0));
  EXPECT_THAT(f->attention_mask, ElementsAre(1, 1, 1, 1, 1));
  EXPECT_EQ(f->label, 1);
  EXPECT_FALSE(f->score.has_value());
  EXPECT_EQ(f->truncated_tokens, 0);

  // a = "the cat sat on the mat" (6 tokens), b = "a dog ran" (3 tokens), 9 + 3 specials.
  SentenceExample pair{
      .guid = "dev-2", .text_a = "the cat sat on the mat", .text_b = "a dog ran", .score = 2.5f};
  f = SentenceFeature(pair, *bert, 12);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->input_ids.size(), 12u);
  EXPECT_EQ(f->truncated_tokens, 0);
  EXPECT_EQ(f->score, 2.5f);
  EXPECT_FALSE(f->label.has_value());
  // Budget 10 - 3 = 7: 6+3 > 7: a 5; 5+3 > 7: a 4; 4+3 fits: a loses "mat" and "the".
  f = SentenceFeature(pair, *bert, 10);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->input_ids, ElementsAre(101, 1996, 4937, 2938, 2006, 102, 1037, 3899, 2743, 102));
  EXPECT_THAT(f->token_type_ids, ElementsAre(0, 0, 0, 0, 0, 0, 1, 1, 1, 1));
  EXPECT_EQ(f->truncated_tokens, 2);
  // Budget 7 - 3 = 4: a 6 -> 3 (longer each time); 3+3 > 4 and equal: b 2; 3+2 > 4: a 2;
  // 2+2 fits: [CLS] the cat [SEP] a dog [SEP].
  f = SentenceFeature(pair, *bert, 7);
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_THAT(f->input_ids, ElementsAre(101, 1996, 4937, 102, 1037, 3899, 102));
  EXPECT_THAT(f->token_type_ids, ElementsAre(0, 0, 0, 0, 1, 1, 1));
  EXPECT_EQ(f->truncated_tokens, 5);
}

TEST(SentenceFeature, NoRoomForTextIsAnError) {
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(bert, nullptr);
  SentenceExample pair{.guid = "dev-7", .text_a = "a", .text_b = "b"};
  absl::StatusOr<SequenceFeature> f = SentenceFeature(pair, *bert, 3);
  ASSERT_FALSE(f.ok());
  EXPECT_THAT(f.status().message(), HasSubstr("dev-7"));
  SentenceExample single{.guid = "dev-8", .text_a = "a"};
  EXPECT_FALSE(SentenceFeature(single, *bert, 2).ok());
  EXPECT_TRUE(SentenceFeature(single, *bert, 3).ok());
}

// Every dev and test example of the shared GLUE tasks, both tokenizers, short and usual
// lengths: within max_seq_length, one [CLS] first, [SEP] closing each segment, segment ids
// 0...0 1...1, targets carried through (none on test).
TEST(SentenceFeatures, EveryGlueExampleFitsWithWellFormedSegments) {
  for (const std::string name : {"albert", "bert"}) {
    const auto tokenizer = SharedTokenizer(name);
    ASSERT_NE(tokenizer, nullptr);
    for (const std::string task : {"CoLA", "SST-2", "MRPC", "STS-B", "RTE"}) {
      for (const std::string split : {"dev", "test"}) {
        const std::string file = SharedFile("glue/" + task + "/" + split + ".tsv");
        ASSERT_FALSE(file.empty());
        ReadStats stats;
        absl::StatusOr<std::vector<SentenceExample>> examples =
            ReadGlueSplit(file.substr(0, file.rfind('/')), task, split, {}, &stats);
        ASSERT_TRUE(examples.ok()) << examples.status();
        for (const int max_seq_length : {16, 128}) {
          absl::StatusOr<std::vector<SequenceFeature>> features =
              SentenceFeatures(*examples, *tokenizer, max_seq_length);
          ASSERT_TRUE(features.ok()) << features.status();
          ASSERT_EQ(features->size(), examples->size());
          int truncated = 0;
          for (size_t i = 0; i < features->size(); ++i) {
            const SequenceFeature& f = (*features)[i];
            const SentenceExample& e = (*examples)[i];
            const std::string where = name + " " + task + " " + split + " " + e.guid;
            ASSERT_LE(f.input_ids.size(), static_cast<size_t>(max_seq_length)) << where;
            ASSERT_EQ(f.token_type_ids.size(), f.input_ids.size()) << where;
            ASSERT_EQ(f.attention_mask, std::vector<int32_t>(f.input_ids.size(), 1)) << where;
            EXPECT_EQ(f.example_index, static_cast<int64_t>(i));
            EXPECT_EQ(f.input_ids.front(), tokenizer->cls_id()) << where;
            EXPECT_EQ(f.input_ids.back(), tokenizer->sep_id()) << where;
            const size_t b_tokens = std::count(f.token_type_ids.begin(), f.token_type_ids.end(), 1);
            const size_t a_end = f.input_ids.size() - b_tokens;  // one past a's [SEP]
            EXPECT_EQ(f.input_ids[a_end - 1], tokenizer->sep_id()) << where;
            EXPECT_TRUE(std::is_sorted(f.token_type_ids.begin(), f.token_type_ids.end())) << where;
            EXPECT_EQ(b_tokens > 0, e.text_b.has_value()) << where;
            EXPECT_EQ(f.label, e.label) << where;
            EXPECT_EQ(f.score, e.score) << where;
            if (split == "test") {
              EXPECT_FALSE(f.label.has_value() || f.score.has_value()) << where;
            }
            truncated += f.truncated_tokens > 0;
          }
          // At 16 tokens truncation must have happened, so the length check above can bite.
          if (max_seq_length == 16) {
            EXPECT_GT(truncated, 0) << name << " " << task << " " << split;
          }
        }
      }
    }
  }
}

TEST(SentenceFeature, EqualsHuggingFaceLongestFirstOnMrpcAndRtePairs) {
  std::ifstream in(SourceFile("tasks/testdata/features/pair_truncation_hf.jsonl"));
  ASSERT_TRUE(in) << "missing fixture";
  const auto albert = SharedTokenizer("albert");
  const auto bert = SharedTokenizer("bert");
  ASSERT_NE(albert, nullptr);
  ASSERT_NE(bert, nullptr);
  std::string line;
  std::getline(in, line);  // metadata
  int cases = 0, cut = 0, hf_rule_differs = 0;
  while (std::getline(in, line)) {
    const nlohmann::json c = nlohmann::json::parse(line);
    const SentenceExample example{
        .guid = c["task"].get<std::string>() + "-" + std::to_string(c["line"].get<int>()),
        .text_a = c["text_a"],
        .text_b = c["text_b"].get<std::string>()};
    const int max_seq_length = c["max_seq_length"];
    for (const auto& [name, tokenizer] :
         {std::pair{"albert", albert.get()}, std::pair{"bert", bert.get()}}) {
      absl::StatusOr<SequenceFeature> f = SentenceFeature(example, *tokenizer, max_seq_length);
      ASSERT_TRUE(f.ok()) << f.status();
      const auto expected = c[name]["bert_rule"].get<std::vector<int32_t>>();
      const auto hf = c[name]["hf"].get<std::vector<int32_t>>();
      EXPECT_EQ(f->input_ids, expected) << name << " " << example.guid << " max " << max_seq_length;
      if (hf != expected) {
        ++hf_rule_differs;
        // Only the odd token of a two-sided cut moves: same length, one id fewer in a.
        EXPECT_EQ(hf.size(), expected.size());
        EXPECT_EQ(max_seq_length % 2, 0) << "budget max_seq_length - 3 must be odd";
      } else {
        EXPECT_EQ(f->input_ids, hf);
      }
      cut += f->truncated_tokens > 0;
      ++cases;
    }
  }
  EXPECT_EQ(cases, 600);
  EXPECT_GT(cut, 200);             // the fixture exercises truncation
  EXPECT_EQ(hf_rule_differs, 65);  // as the generator reported
}

}  // namespace
}  // namespace cloze::tasks
