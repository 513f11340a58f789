// SQuAD post-processing on hand-made features and logits: the candidate rules (context
// only, max-context start, start <= end, max_answer_length, n-best cut-off), text cut from
// the original context, n-best deduplication and probabilities, SQuAD 2.0's null answer and
// threshold, bad input.
#include "tasks/squad_postprocess.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloze::tasks {
namespace {

using ::testing::HasSubstr;

// "Café" is 5 bytes: the spans below are bytes of this text.
constexpr char kContext[] = "The Café opened in 1901 and closed in 1999.";
// Context tokens: The Café opened in 1901 and closed in 1999 .
const std::vector<std::pair<int64_t, int64_t>> kSpans = {
    {0, 3}, {4, 9}, {10, 16}, {17, 19}, {20, 24}, {25, 28}, {29, 35}, {36, 38}, {39, 43}, {43, 44}};
constexpr int kFirstContext = 3;  // [CLS] q [SEP] context... [SEP]
constexpr int kTokens = 14;

QaExample Example() { return QaExample{.id = "q", .question = "when?", .context = kContext}; }

// A feature of Example() with every context token max-context.
SquadFeature Feature() {
  SquadFeature f;
  f.input_ids.assign(kTokens, 1);
  f.token_begin.assign(kTokens, -1);
  f.token_end.assign(kTokens, -1);
  f.max_context.assign(kTokens, false);
  for (size_t i = 0; i < kSpans.size(); ++i) {
    f.token_begin[kFirstContext + i] = kSpans[i].first;
    f.token_end[kFirstContext + i] = kSpans[i].second;
    f.max_context[kFirstContext + i] = true;
  }
  return f;
}

// Logits of -10 except `peaks` (token index -> logit).
std::vector<float> Logits(std::initializer_list<std::pair<int, float>> peaks) {
  std::vector<float> logits(kTokens, -10.0f);
  for (const auto& [index, value] : peaks) logits[index] = value;
  return logits;
}

// Token index of context token `i`.
constexpr int C(int i) { return kFirstContext + i; }

SquadPrediction PredictOne(const std::vector<SquadFeature>& features,
                           const std::vector<SpanLogits>& logits,
                           const SquadPostprocessOptions& options = {}) {
  absl::StatusOr<std::vector<SquadPrediction>> predictions =
      PostprocessSquad({Example()}, features, logits, options);
  EXPECT_TRUE(predictions.ok()) << predictions.status();
  if (!predictions.ok() || predictions->size() != 1) return {};
  return predictions->front();
}

TEST(PostprocessSquad, TextIsCutFromTheOriginalContextAndQuestionTokensAreSkipped) {
  // The highest start logit is on the question token 1: not an answer.
  const SquadPrediction p =
      PredictOne({Feature()}, {{Logits({{1, 9}, {C(1), 5}}), Logits({{C(1), 5}})}});
  EXPECT_EQ(p.id, "q");
  EXPECT_EQ(p.text, "Café");  // case and accent as in the context, not the tokens
  ASSERT_FALSE(p.nbest.empty());
  EXPECT_EQ(p.nbest[0].byte_begin, 4);
  EXPECT_EQ(p.nbest[0].byte_end, 9);
  EXPECT_EQ(p.nbest[0].start_logit, 5);
  EXPECT_EQ(p.nbest[0].end_logit, 5);
}

TEST(PostprocessSquad, EndBeforeStartAndOverlongSpansAreSkipped) {
  // Best start "opened", best end "The": end < start; next best end "in".
  SquadPrediction p =
      PredictOne({Feature()}, {{Logits({{C(2), 5}}), Logits({{C(0), 6}, {C(3), 4}})}});
  EXPECT_EQ(p.text, "opened in");
  // "The ... 1901" is 5 tokens: too long for max_answer_length 4; "Café ... 1901" is 4.
  const SpanLogits long_span{Logits({{C(0), 5}, {C(1), 4}}), Logits({{C(4), 5}})};
  p = PredictOne({Feature()}, {long_span}, {.max_answer_length = 5});
  EXPECT_EQ(p.text, "The Café opened in 1901");
  p = PredictOne({Feature()}, {long_span}, {.max_answer_length = 4});
  EXPECT_EQ(p.text, "Café opened in 1901");
}

TEST(PostprocessSquad, StartMustBeMaxContext) {
  SquadFeature f = Feature();
  const SpanLogits logits{Logits({{C(4), 5}, {C(8), 3}}), Logits({{C(4), 5}, {C(8), 3}})};
  EXPECT_EQ(PredictOne({f}, {logits}).text, "1901");
  f.max_context[C(4)] = false;  // "1901" is judged in another window
  EXPECT_EQ(PredictOne({f}, {logits}).text, "1999");
  f.max_context[C(8)] = false;
  f.max_context[C(7)] = false;
  // The end may lie outside max context: "in 1999" still starts at a max-context token.
  const SpanLogits in_1999{Logits({{C(6), 5}}), Logits({{C(8), 5}})};
  EXPECT_EQ(PredictOne({f}, {in_1999}).text, "closed in 1999");
}

TEST(PostprocessSquad, OnlyTheNBestStartsAndEndsAreConsidered) {
  // Starts ranked: question token 1, question token 2 ([SEP]), then "Café": with
  // n_best_size 2 no start is in the context.
  const SpanLogits logits{Logits({{1, 9}, {2, 8}, {C(1), 5}}), Logits({{C(1), 5}})};
  SquadPrediction p = PredictOne({Feature()}, {logits}, {.n_best_size = 2});
  EXPECT_EQ(p.text, "");
  EXPECT_TRUE(p.nbest.empty());
  p = PredictOne({Feature()}, {logits}, {.n_best_size = 3});
  EXPECT_EQ(p.text, "Café");
}

TEST(PostprocessSquad, NbestIsDeduplicatedWithSoftmaxProbabilities) {
  // Candidates (n_best_size 2): Café..opened 5, Café..in 3, opened 3, opened in 1.
  const SpanLogits logits{Logits({{C(1), 3}, {C(2), 1}}), Logits({{C(2), 2}, {C(3), 0}})};
  // Two windows with the same spans give every text twice; each is listed once.
  const SquadPrediction p =
      PredictOne({Feature(), Feature()}, {logits, logits}, {.n_best_size = 2});
  ASSERT_EQ(p.nbest.size(), 2u);
  EXPECT_EQ(p.nbest[0].text, "Café opened");
  EXPECT_EQ(p.nbest[1].text, "Café opened in");  // stable: start "Café" before "opened"
  EXPECT_NEAR(p.nbest[0].probability, 1 / (1 + std::exp(-2.0)), 1e-12);
  EXPECT_NEAR(p.nbest[1].probability, 1 / (1 + std::exp(2.0)), 1e-12);
  const SquadPrediction all = PredictOne({Feature(), Feature()}, {logits, logits});
  EXPECT_EQ(all.nbest.size(), 20u);  // n_best_size 20 caps the list
  std::set<std::string> texts;
  double total = 0;
  for (const SquadNbestEntry& e : all.nbest) {
    EXPECT_TRUE(texts.insert(e.text).second) << e.text;
    total += e.probability;
  }
  EXPECT_NEAR(total, 1.0, 1e-9);
}

TEST(PostprocessSquad, Version2NullScoreIsTheMinimumOverFeaturesAgainstTheThreshold) {
  // Best non-null: "Café opened", 5. Null: [CLS] 4 + 4 in the first window, 3.5 + 3.5 in
  // the second: 7, the minimum.
  const SpanLogits first{Logits({{0, 4}, {C(1), 3}}), Logits({{0, 4}, {C(2), 2}})};
  const SpanLogits second{Logits({{0, 3.5}, {C(1), 3}}), Logits({{0, 3.5}, {C(2), 2}})};
  SquadPrediction p =
      PredictOne({Feature(), Feature()}, {first, second}, {.version_2_with_negative = true});
  EXPECT_FLOAT_EQ(p.null_score_diff, 2.0f);
  EXPECT_EQ(p.text, "");  // 2 > threshold 0
  ASSERT_GE(p.nbest.size(), 2u);
  EXPECT_EQ(p.nbest[0].text, "");  // the null answer ranks at its score, 7
  EXPECT_EQ(p.nbest[0].byte_begin, -1);
  EXPECT_EQ(p.nbest[0].start_logit, 3.5f);
  EXPECT_EQ(p.nbest[1].text, "Café opened");
  p = PredictOne({Feature(), Feature()}, {first, second},
                 {.version_2_with_negative = true, .null_score_diff_threshold = 2.5f});
  EXPECT_EQ(p.text, "Café opened");

  // A low null score: the null answer is still listed, after the span that beats it, even
  // beyond a full n-best list (as BERT's write_predictions).
  const SpanLogits low{Logits({{0, -5}, {C(1), 3}}), Logits({{0, -5}, {C(2), 2}})};
  p = PredictOne({Feature()}, {low}, {.n_best_size = 1, .version_2_with_negative = true});
  EXPECT_EQ(p.text, "Café opened");
  EXPECT_FLOAT_EQ(p.null_score_diff, -15.0f);
  ASSERT_EQ(p.nbest.size(), 2u);
  EXPECT_EQ(p.nbest[0].text, "Café opened");
  EXPECT_EQ(p.nbest[1].text, "");
  EXPECT_NEAR(p.nbest[1].probability, 1 / (1 + std::exp(15.0)), 1e-12);
}

TEST(PostprocessSquad, ExamplesWithoutFeaturesAndBadInput) {
  absl::StatusOr<std::vector<SquadPrediction>> predictions = PostprocessSquad(
      {Example(), Example()}, {Feature()}, {{Logits({{C(1), 5}}), Logits({{C(1), 5}})}}, {});
  ASSERT_TRUE(predictions.ok()) << predictions.status();
  ASSERT_EQ(predictions->size(), 2u);
  EXPECT_EQ((*predictions)[0].text, "Café");
  EXPECT_EQ((*predictions)[1].text, "");

  absl::Status status = PostprocessSquad({Example()}, {Feature()}, {}, {}).status();
  EXPECT_THAT(status.message(), HasSubstr("1 features but 0 logit pairs"));
  status = PostprocessSquad({Example()}, {Feature()}, {{{1, 2}, {1, 2}}}, {}).status();
  EXPECT_THAT(status.message(), HasSubstr("feature 0 has 14 tokens but 2 start and 2 end logits"));
  SquadFeature stray = Feature();
  stray.example_index = 3;
  status = PostprocessSquad({Example()}, {stray}, {{Logits({}), Logits({})}}, {}).status();
  EXPECT_THAT(status.message(), HasSubstr("belongs to example 3 of 1"));
  EXPECT_FALSE(PostprocessSquad({Example()}, {}, {}, {.n_best_size = 0}).ok());
}

}  // namespace
}  // namespace cloze::tasks
