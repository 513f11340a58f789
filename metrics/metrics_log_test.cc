#include "metrics/metrics_log.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cloze {
namespace {

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(MetricsLog, FloatsRoundTripAndNonFiniteIsNull) {
  StepRecord r;
  r.step = 7;
  r.loss = 0.1 + 0.2;  // not exactly 0.3: every digit must survive
  r.mlm_accuracy = 1.0 / 3.0;
  r.grad_norm = std::numeric_limits<double>::quiet_NaN();
  const nlohmann::json j = nlohmann::json::parse(StepRecordJson(r, 0.5, EvalRecord{.step = 7, .loss = 2.5}));
  EXPECT_EQ(j["step"], 7);
  EXPECT_EQ(j["loss"].get<double>(), 0.1 + 0.2);
  EXPECT_EQ(j["mlm_acc"].get<double>(), 1.0 / 3.0);
  EXPECT_TRUE(j["grad_norm"].is_null());
  EXPECT_EQ(j["nonfinite"], "loss 0.3 grad_norm nan");
  EXPECT_EQ(j["eval_loss"].get<double>(), 2.5);
  for (const char* key : {"mlm_loss", "sop_loss", "sop_acc", "lr", "tokens_per_s", "tokens", "skipped", "seconds"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
}

TEST(MetricsLog, AFineTuningStepNamesItsOneTerm) {
  const nlohmann::json classification = nlohmann::json::parse(
      StepRecordJson({.head = StepHead::kClassification, .step = 3, .loss = 0.5, .mlm_loss = 0.5, .mlm_accuracy = 0.75},
                     0.1, EvalRecord{.step = 3, .loss = 0.4, .task_metrics = {{"matthews_corrcoef", 0.2}}}));
  EXPECT_EQ(classification["loss"].get<double>(), 0.5);
  EXPECT_EQ(classification["acc"].get<double>(), 0.75);
  EXPECT_EQ(classification["eval_matthews_corrcoef"].get<double>(), 0.2);
  const nlohmann::json regression =
      nlohmann::json::parse(StepRecordJson({.head = StepHead::kRegression, .step = 3, .loss = 1.5}, 0.1, {}));
  EXPECT_EQ(regression["loss"].get<double>(), 1.5);
  EXPECT_FALSE(regression.contains("acc"));
  for (const nlohmann::json& j : {classification, regression}) {
    for (const char* key : {"mlm_loss", "sop_loss", "mlm_acc", "sop_acc", "eval_mlm_acc"}) {
      EXPECT_FALSE(j.contains(key)) << key << " in " << j.dump();
    }
  }
}

TEST(MetricsLog, ThePrecisionThatRanIsRecordedWhenKnown) {
  StepRecord r{.step = 1, .loss = 2.0};
  EXPECT_FALSE(nlohmann::json::parse(StepRecordJson(r, 0.1, {})).contains("precision"));
  r.precision = "bf16";
  EXPECT_EQ(nlohmann::json::parse(StepRecordJson(r, 0.1, {}))["precision"].get<std::string>(), "bf16");
}

TEST(MetricsLog, ReopeningKeepsOnlyStepsUpToTheCheckpoint) {
  const std::string dir = ::testing::TempDir() + "/metrics_log_test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    auto log = MetricsLog::Open(dir, 0);
    ASSERT_TRUE(log.ok()) << log.status();
    for (int64_t step = 1; step <= 8; ++step) ASSERT_TRUE((*log)->Append({.step = step, .loss = 1.0}, 0.1, {}).ok());
  }
  // A torn last line, as a kill -9 mid-write leaves.
  std::ofstream(dir + "/metrics.jsonl", std::ios::app) << "{\"step\": 9, \"lo";
  {
    auto log = MetricsLog::Open(dir, 5);  // resumed from the checkpoint of step 5
    ASSERT_TRUE(log.ok()) << log.status();
    ASSERT_TRUE((*log)->Append({.step = 6, .loss = 2.0}, 0.1, {}).ok());
  }
  const std::vector<std::string> lines = Lines(dir + "/metrics.jsonl");
  ASSERT_EQ(lines.size(), 6u);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(nlohmann::json::parse(lines[i])["step"], i + 1);
  EXPECT_EQ(nlohmann::json::parse(lines[5])["loss"].get<double>(), 2.0);
}

}  // namespace
}  // namespace cloze
