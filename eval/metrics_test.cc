// Hand-computed cases, the error contracts, and the documented differences from Python; the
// comparisons with scikit-learn, scipy and the SQuAD scripts are in reference_test.cc and
// squad_dev_test.cc.
#include <cmath>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "eval/classification.h"
#include "eval/correlation.h"
#include "eval/glue_score.h"
#include "eval/seed_stats.h"
#include "eval/squad_metrics.h"
#include "eval/squad_normalize.h"
#include "eval/tagging.h"
#include "gtest/gtest.h"

namespace cloze::eval {
namespace {

using Ints = std::vector<int>;
using Doubles = std::vector<double>;

TEST(ClassificationTest, BinaryMatthewsByHand) {
  // TP=1 TN=2 FP=0 FN=1: (1·2 − 0·1) / sqrt(1·2·2·3).
  EXPECT_NEAR(MatthewsCorrelation(Ints{1, 1, 0, 0}, Ints{1, 0, 0, 0}).value(),
              2 / std::sqrt(12.0), 1e-15);
  EXPECT_DOUBLE_EQ(MatthewsCorrelation(Ints{1, 0, 1}, Ints{0, 1, 0}).value(), -1.0);
}

TEST(ClassificationTest, MatthewsIsZeroWhenOneSideIsASingleClass) {
  EXPECT_EQ(MatthewsCorrelation(Ints{1, 0, 1, 0}, Ints{1, 1, 1, 1}).value(), 0.0);
  EXPECT_EQ(MatthewsCorrelation(Ints{1, 1, 1}, Ints{1, 0, 1}).value(), 0.0);
}

TEST(ClassificationTest, F1WithoutPredictedPositivesIsZero) {
  EXPECT_EQ(BinaryF1(Ints{1, 0, 1}, Ints{0, 0, 0}).value(), 0.0);
  EXPECT_EQ(BinaryF1(Ints{0, 0}, Ints{0, 0}).value(), 0.0);  // no positive anywhere
  // TP=1 FP=1 FN=1: 2/(2+1+1).
  EXPECT_DOUBLE_EQ(BinaryF1(Ints{1, 1, 0}, Ints{1, 0, 1}).value(), 0.5);
  EXPECT_DOUBLE_EQ(BinaryF1(Ints{1, 1, 0}, Ints{1, 0, 1}, /*positive_label=*/0).value(), 0.0);
}

TEST(ClassificationTest, MacroF1CountsClassesOnlyPredicted) {
  // Class 2 is only predicted: its F1 0 still counts. Class 0: 2/3, class 1: 1.
  EXPECT_DOUBLE_EQ(MacroF1(Ints{0, 0, 1}, Ints{0, 2, 1}).value(), (2.0 / 3 + 1 + 0) / 3);
}

TEST(ClassificationTest, RefusesMismatchedOrEmptyInput) {
  EXPECT_FALSE(Accuracy(Ints{1, 0}, Ints{1}).ok());
  EXPECT_FALSE(Accuracy(Ints{}, Ints{}).ok());
  EXPECT_FALSE(MatthewsCorrelation(Ints{1}, Ints{}).ok());
  EXPECT_FALSE(BinaryF1(Ints{}, Ints{}).ok());
  EXPECT_FALSE(MacroF1(Ints{0}, Ints{0, 1}).ok());
  EXPECT_DOUBLE_EQ(Accuracy(Ints{1, 0, 1, 1}, Ints{1, 1, 1, 1}).value(), 0.75);
}

TEST(TaggingTest, IgnoresNegativeLabels) {
  EXPECT_DOUBLE_EQ(TokenAccuracy(Ints{3, -100, 5, -1, 7}, Ints{3, 9, 4, 9, 7}).value(),
                   2.0 / 3);
  EXPECT_FALSE(TokenAccuracy(Ints{-100, -100}, Ints{1, 2}).ok());
  EXPECT_FALSE(TokenAccuracy(Ints{1}, Ints{1, 2}).ok());
}

TEST(CorrelationTest, AverageRanksShareTies) {
  EXPECT_EQ(AverageRanks(Doubles{10, 20, 20, 5, 20}), (Doubles{2, 4, 4, 1, 4}));
}

TEST(CorrelationTest, ByHand) {
  EXPECT_DOUBLE_EQ(PearsonCorrelation(Doubles{1, 2, 3}, Doubles{2, 4, 6}).value(), 1.0);
  EXPECT_DOUBLE_EQ(PearsonCorrelation(Doubles{1, 2, 3}, Doubles{3, 2, 1}).value(), -1.0);
  // Monotone but not linear: Spearman 1, Pearson below 1.
  EXPECT_DOUBLE_EQ(SpearmanCorrelation(Doubles{1, 2, 3, 4}, Doubles{1, 4, 9, 100}).value(), 1.0);
  EXPECT_LT(PearsonCorrelation(Doubles{1, 2, 3, 4}, Doubles{1, 4, 9, 100}).value(), 0.9);
}

TEST(CorrelationTest, ConstantInputIsNaNAsInScipy) {
  EXPECT_TRUE(std::isnan(PearsonCorrelation(Doubles{2, 2, 2}, Doubles{1, 2, 3}).value()));
  EXPECT_TRUE(std::isnan(SpearmanCorrelation(Doubles{1, 2, 3}, Doubles{0, 0, 0}).value()));
}

TEST(CorrelationTest, RefusesShortMismatchedOrNonFiniteInput) {
  EXPECT_FALSE(PearsonCorrelation(Doubles{1}, Doubles{1}).ok());
  EXPECT_FALSE(SpearmanCorrelation(Doubles{1, 2}, Doubles{1, 2, 3}).ok());
  EXPECT_FALSE(PearsonCorrelation(Doubles{1, NAN, 3}, Doubles{1, 2, 3}).ok());
  EXPECT_FALSE(SpearmanCorrelation(Doubles{1, 2, 3}, Doubles{1, INFINITY, 3}).ok());
}

TEST(SeedStatsTest, SampleStandardDeviation) {
  const SeedSummary s = SummarizeSeeds(Doubles{2, 4, 4, 4, 5, 5, 7, 9}).value();
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.median, 4.5);
  EXPECT_DOUBLE_EQ(s.standard_deviation, std::sqrt(32.0 / 7));  // n − 1, not n (which gives 2)
  EXPECT_EQ(s.min, 2.0);
  EXPECT_EQ(s.max, 9.0);
  EXPECT_EQ(s.runs, 8);
}

TEST(SeedStatsTest, OneRunHasNoStandardDeviation) {
  const SeedSummary s = SummarizeSeeds(Doubles{0.5}).value();
  EXPECT_EQ(s.median, 0.5);
  EXPECT_TRUE(std::isnan(s.standard_deviation));
  EXPECT_FALSE(SummarizeSeeds(Doubles{}).ok());
  EXPECT_FALSE(SummarizeSeeds(Doubles{0.5, NAN}).ok());
}

TEST(SeedStatsTest, DegenerateRuns) {
  EXPECT_EQ(SingleClassPredicted(Ints{2, 2, 2}), 2);
  EXPECT_FALSE(SingleClassPredicted(Ints{2, 2, 1}).has_value());
  EXPECT_FALSE(SingleClassPredicted(Ints{}).has_value());
  EXPECT_TRUE(IsDegenerateRun(Ints{0, 0}));
  EXPECT_FALSE(IsDegenerateRun(Ints{0, 1}));
  EXPECT_TRUE(IsDegenerateRun(Doubles{3.2, 3.2}));
  EXPECT_FALSE(IsDegenerateRun(Doubles{3.2, 3.1}));
  EXPECT_FALSE(IsDegenerateRun(Doubles{}));
}

TEST(GlueScoreTest, HumanBaselinesGiveThePublishedGlueScore) {
  std::vector<std::pair<GlueTask, std::vector<double>>> all;
  for (GlueTask task : kGlueTasks) {
    std::vector<double> fractions;
    for (double percent : GlueHumanBaseline(task)) fractions.push_back(percent / 100);
    all.push_back({task, fractions});
  }
  const GlueSummary summary = SummarizeGlue(all).value();
  EXPECT_TRUE(summary.is_glue_score);
  // The leaderboard shows 87.1: (66.4 + 97.8 + 83.55 + 92.65 + 69.95 + 92.4 + 91.2 + 93.6 +
  // 95.9) / 9 = 87.05.
  EXPECT_NEAR(summary.average, 87.05, 1e-9);
  for (const GlueTaskResult& task : summary.tasks) {
    EXPECT_NEAR(task.relative_to_human, 1.0, 1e-12) << GlueTaskName(task.task);
  }
  EXPECT_DOUBLE_EQ(GlueHumanTaskScore(GlueTask::kQQP), (59.5 + 80.4) / 2);
}

TEST(GlueScoreTest, TwoMetricTasksAverageTheirMetrics) {
  EXPECT_DOUBLE_EQ(GlueTaskScore(GlueTask::kMRPC, Doubles{0.9, 0.8}).value(), 85.0);
  EXPECT_DOUBLE_EQ(GlueTaskScore(GlueTask::kCoLA, Doubles{0.6}).value(), 60.0);
  EXPECT_FALSE(GlueTaskScore(GlueTask::kSTSB, Doubles{0.9}).ok());
  EXPECT_FALSE(GlueTaskScore(GlueTask::kSTSB, Doubles{0.9, NAN}).ok());
  EXPECT_EQ(GlueMetricNames(GlueTask::kMNLI).size(), 2u);
  const GlueSummary two =
      SummarizeGlue({{GlueTask::kRTE, {0.7}}, {GlueTask::kSTSB, {0.8, 0.9}}}).value();
  EXPECT_FALSE(two.is_glue_score);
  EXPECT_DOUBLE_EQ(two.average, (70.0 + 85.0) / 2);
  EXPECT_DOUBLE_EQ(two.tasks[0].relative_to_human, 70.0 / 93.6);
  EXPECT_FALSE(SummarizeGlue({{GlueTask::kRTE, {0.7}}, {GlueTask::kRTE, {0.7}}}).ok());
  EXPECT_FALSE(SummarizeGlue({}).ok());
}

TEST(GlueScoreTest, TaskNames) {
  EXPECT_EQ(GlueTaskFromName("sst2").value(), GlueTask::kSST2);
  EXPECT_EQ(GlueTaskFromName("STS-B").value(), GlueTask::kSTSB);
  EXPECT_EQ(GlueTaskFromName("mnli").value(), GlueTask::kMNLI);
  EXPECT_FALSE(GlueTaskFromName("squad").ok());
  for (GlueTask task : kGlueTasks) EXPECT_EQ(GlueTaskFromName(GlueTaskName(task)).value(), task);
}

TEST(SquadNormalizeTest, DocumentedDifferencesFromPython) {
  // Python lower-cases a word-final capital sigma to ς ("οδος"); here it is always σ.
  EXPECT_EQ(NormalizeAnswer("ΟΔΟΣ"), "οδοσ");
  // Invalid UTF-8 bytes are kept and count as word characters (so "a\xFF" is no article).
  EXPECT_EQ(NormalizeAnswer("The A\xFF an"), "a\xFF");
  // Truncated, overlong and surrogate sequences: every byte kept, nothing read past the end.
  EXPECT_EQ(NormalizeAnswer("x \xC3"), "x \xC3");
  EXPECT_EQ(NormalizeAnswer("\xE0\x80\x80 B"), "\xE0\x80\x80 b");
  EXPECT_EQ(NormalizeAnswer("\xED\xA0\x80"), "\xED\xA0\x80");
  EXPECT_EQ(NormalizeAnswer("\xF4\x90\x80\x80"), "\xF4\x90\x80\x80");  // past U+10FFFF
  EXPECT_EQ(NormalizeAnswer("\xF0\x9F\x98"), "\xF0\x9F\x98");
  // Valid 4-byte text passes through, and Deseret capitals lower-case as in Python.
  EXPECT_EQ(NormalizeAnswer("\xF0\x9F\x98\x80 \xF0\x90\x90\x80"),
            "\xF0\x9F\x98\x80 \xF0\x90\x90\xA8");
}

TEST(SquadMetricsTest, EmptyAnswersDifferBetweenVersions) {
  // Gold "the" normalises to "": v1.1 exact 1 but F1 0; v2.0 drops it and an empty prediction
  // then matches the no-answer gold "" with F1 1.
  EXPECT_EQ(SquadExactMatch("", "the"), 1.0);
  EXPECT_EQ(SquadV1F1("", "the"), 0.0);
  EXPECT_EQ(SquadV2F1("", "the"), 1.0);
  EXPECT_EQ(SquadV2F1("Paris", ""), 0.0);
  EXPECT_DOUBLE_EQ(SquadV1F1("the big red car", "a red car"), 2 * (2.0 / 3) * 1 / (2.0 / 3 + 1));
  // Counter intersection: a repeated token counts as often as both sides have it.
  EXPECT_DOUBLE_EQ(SquadV1F1("york york york", "new york york"), 2.0 / 3);
}

TEST(SquadMetricsTest, V1CountsUnansweredQuestionsAsZero) {
  const std::vector<SquadQuestion> questions = {{"a", {"Paris"}}, {"b", {"1889", "in 1889"}}};
  const SquadV1Result r = EvaluateSquadV1(questions, {{"a", "paris."}, {"z", "x"}}).value();
  EXPECT_EQ(r.total, 2);
  EXPECT_EQ(r.unanswered, 1);
  EXPECT_DOUBLE_EQ(r.exact_match, 50.0);
  EXPECT_DOUBLE_EQ(r.f1, 50.0);
  EXPECT_FALSE(EvaluateSquadV1({{"c", {}}}, {{"c", ""}}).ok());
  EXPECT_FALSE(EvaluateSquadV1({}, {}).ok());
}

TEST(SquadMetricsTest, V2SplitsAnswerableAndUnanswerable) {
  const std::vector<SquadQuestion> questions = {{"a", {"Paris"}}, {"b", {}}, {"c", {}}};
  const SquadPredictions predictions = {{"a", "Paris"}, {"b", ""}, {"c", "Lyon"}};
  const SquadV2Result r = EvaluateSquadV2(questions, predictions).value();
  EXPECT_EQ(r.all.total, 3);
  EXPECT_DOUBLE_EQ(r.all.exact, 200.0 / 3);
  ASSERT_TRUE(r.has_answer.has_value());
  EXPECT_DOUBLE_EQ(r.has_answer->f1, 100.0);
  ASSERT_TRUE(r.no_answer.has_value());
  EXPECT_EQ(r.no_answer->total, 2);
  EXPECT_DOUBLE_EQ(r.no_answer->exact, 50.0);
  EXPECT_FALSE(EvaluateSquadV2({{"a", {"Paris"}}}, {{"a", "Paris"}}).value().no_answer);
  EXPECT_FALSE(EvaluateSquadV2(questions, {{"a", "Paris"}}).ok());  // b and c missing
}

TEST(SquadMetricsTest, V2NoAnswerProbabilityThreshold) {
  const std::vector<SquadQuestion> questions = {{"a", {"Paris"}}, {"b", {}}};
  const SquadPredictions predictions = {{"a", "Paris"}, {"b", "Lyon"}};
  const std::unordered_map<std::string, double> probabilities = {{"a", 0.9}, {"b", 0.9}};
  SquadV2Options options;
  options.no_answer_probabilities = &probabilities;
  options.no_answer_threshold = 0.5;  // both are predicted unanswerable
  const SquadV2Result r = EvaluateSquadV2(questions, predictions, options).value();
  EXPECT_DOUBLE_EQ(r.has_answer->exact, 0.0);
  EXPECT_DOUBLE_EQ(r.no_answer->f1, 100.0);
  options.no_answer_threshold = 1.0;  // neither: the predictions count
  const SquadV2Result kept = EvaluateSquadV2(questions, predictions, options).value();
  EXPECT_DOUBLE_EQ(kept.has_answer->exact, 100.0);
  EXPECT_DOUBLE_EQ(kept.no_answer->f1, 0.0);
  const std::unordered_map<std::string, double> partial = {{"a", 0.1}};
  options.no_answer_probabilities = &partial;
  EXPECT_FALSE(EvaluateSquadV2(questions, predictions, options).ok());
}

}  // namespace
}  // namespace cloze::eval
