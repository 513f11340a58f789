// Every metric against scikit-learn, scipy and numpy (testdata/metric_fixtures.json) on
// predictions derived from the real GLUE, STS-B and UD English-EWT dev sets: rule baselines,
// majority/minority class, inverted rules, gold, and seeded random predictions.
#include <string>
#include <utility>
#include <vector>

#include "eval/classification.h"
#include "eval/correlation.h"
#include "eval/glue_score.h"
#include "eval/metric_fixture_testing.h"
#include "eval/seed_stats.h"
#include "eval/squad_metrics.h"
#include "eval/squad_normalize.h"
#include "eval/tagging.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cloze::eval {
namespace {

using testing::ExpectMatchesReference;

const nlohmann::json& Fixture() { return testing::MetricFixtureOrFail(); }

TEST(ClassificationReferenceTest, MatchesScikitLearnOnGlueDevPredictions) {
  const nlohmann::json& tasks = Fixture().at("classification");
  ASSERT_EQ(tasks.size(), 5u);  // CoLA, SST-2, MRPC, RTE, and STS-B binned into 3 classes
  int sets = 0;
  for (const nlohmann::json& task : tasks) {
    const std::vector<int> labels = task.at("labels").get<std::vector<int>>();
    for (const nlohmann::json& set : task.at("sets")) {
      const std::string what = task.at("task").get<std::string>() + "/" +
                               set.at("rule").get<std::string>();
      const std::vector<int> predictions = set.at("predictions").get<std::vector<int>>();
      ASSERT_EQ(predictions.size(), labels.size()) << what;
      ExpectMatchesReference(Accuracy(labels, predictions).value(), set.at("accuracy"),
                             what + " accuracy");
      ExpectMatchesReference(MatthewsCorrelation(labels, predictions).value(),
                             set.at("matthews"), what + " Matthews");
      if (!set.at("f1").is_null()) {
        ExpectMatchesReference(BinaryF1(labels, predictions).value(), set.at("f1"),
                               what + " F1");
      }
      ExpectMatchesReference(MacroF1(labels, predictions).value(), set.at("macro_f1"),
                             what + " macro F1");
      EXPECT_EQ(IsDegenerateRun(predictions), set.at("degenerate").get<bool>()) << what;
      ++sets;
    }
  }
  EXPECT_EQ(sets, 50);
}

TEST(CorrelationReferenceTest, MatchesScipyOnStsbDevPredictions) {
  const nlohmann::json& correlation = Fixture().at("correlation");
  const std::vector<double> labels = correlation.at("labels").get<std::vector<double>>();
  ASSERT_EQ(labels.size(), 1500u);
  for (const nlohmann::json& set : correlation.at("sets")) {
    const std::string what = set.at("rule").get<std::string>();
    const std::vector<double> predictions = set.at("predictions").get<std::vector<double>>();
    ExpectMatchesReference(PearsonCorrelation(labels, predictions).value(), set.at("pearson"),
                           what + " Pearson");
    ExpectMatchesReference(SpearmanCorrelation(labels, predictions).value(),
                           set.at("spearman"), what + " Spearman");
  }
  for (const nlohmann::json& set : correlation.at("extra")) {
    const std::vector<double> x = set.at("labels").get<std::vector<double>>();
    const std::vector<double> y = set.at("predictions").get<std::vector<double>>();
    ExpectMatchesReference(PearsonCorrelation(x, y).value(), set.at("pearson"), "extra Pearson");
    ExpectMatchesReference(SpearmanCorrelation(x, y).value(), set.at("spearman"),
                           "extra Spearman");
  }
}

TEST(TaggingReferenceTest, MatchesNumpyOnUdEwtDevPredictions) {
  const nlohmann::json& tagging = Fixture().at("tagging");
  const std::vector<int> labels = tagging.at("labels").get<std::vector<int>>();
  const std::vector<int> predictions = tagging.at("predictions").get<std::vector<int>>();
  ASSERT_GT(labels.size(), tagging.at("words").get<size_t>());  // some -100 positions
  ExpectMatchesReference(TokenAccuracy(labels, predictions).value(),
                         tagging.at("token_accuracy"), "UD EWT dev token accuracy");
}

TEST(SeedStatsReferenceTest, MatchesNumpy) {
  for (const nlohmann::json& set : Fixture().at("seed_stats")) {
    const std::string what = set.at("name").get<std::string>();
    const std::vector<double> values = set.at("values").get<std::vector<double>>();
    const SeedSummary summary = SummarizeSeeds(values).value();
    EXPECT_EQ(summary.runs, static_cast<int64_t>(values.size())) << what;
    ExpectMatchesReference(summary.mean, set.at("mean"), what + " mean");
    ExpectMatchesReference(summary.median, set.at("median"), what + " median");
    ExpectMatchesReference(summary.standard_deviation, set.at("std"), what + " std (ddof=1)");
    ExpectMatchesReference(summary.min, set.at("min"), what + " min");
    ExpectMatchesReference(summary.max, set.at("max"), what + " max");
  }
}

TEST(GlueReferenceTest, TaskScoresFromReferenceMetrics) {
  const nlohmann::json& glue = Fixture().at("glue");
  std::vector<std::pair<GlueTask, std::vector<double>>> task_metrics;
  for (const auto& [name, metrics] : glue.at("metrics").items()) {
    const GlueTask task = GlueTaskFromName(name).value();
    task_metrics.push_back({task, metrics.get<std::vector<double>>()});
    ExpectMatchesReference(GlueTaskScore(task, task_metrics.back().second).value(),
                           glue.at("scores").at(name), name + " task score");
  }
  const GlueSummary summary = SummarizeGlue(task_metrics).value();
  ExpectMatchesReference(summary.average, glue.at("average"), "average of 5 task scores");
  EXPECT_FALSE(summary.is_glue_score);
}

TEST(SquadStringReferenceTest, MatchesOfficialNormalisationAndScores) {
  for (const nlohmann::json& c : Fixture().at("squad_strings")) {
    const std::string prediction = c.at("prediction").get<std::string>();
    const std::vector<std::string> golds = c.at("golds").get<std::vector<std::string>>();
    const std::string what = "prediction \"" + prediction + "\"";
    EXPECT_EQ(NormalizeAnswer(prediction), c.at("normalized").get<std::string>()) << what;
    for (size_t i = 0; i < golds.size(); ++i) {
      EXPECT_EQ(NormalizeAnswer(golds[i]), c.at("normalized_golds")[i].get<std::string>())
          << "gold \"" << golds[i] << "\"";
    }
    // One question with these golds, through the dataset-level functions (percentages).
    const std::vector<SquadQuestion> question = {{"q", golds}};
    const SquadV1Result v1 = EvaluateSquadV1(question, {{"q", prediction}}).value();
    ExpectMatchesReference(v1.exact_match / 100, c.at("v1_exact"), what + " v1 exact");
    ExpectMatchesReference(v1.f1 / 100, c.at("v1_f1"), what + " v1 F1");
    const SquadV2Result v2 = EvaluateSquadV2(question, {{"q", prediction}}).value();
    ExpectMatchesReference(v2.all.exact / 100, c.at("v2_exact"), what + " v2 exact");
    ExpectMatchesReference(v2.all.f1 / 100, c.at("v2_f1"), what + " v2 F1");
  }
}

}  // namespace
}  // namespace cloze::eval
