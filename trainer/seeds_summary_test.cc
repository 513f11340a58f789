#include "trainer/seeds_summary.h"

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "util/atomic_file.h"

namespace cloze {
namespace {

SeedRunResult SeedRun(uint64_t seed, double final_accuracy, double final_f1, double best_accuracy, double best_f1,
                  bool final_degenerate = false) {
  SeedRunResult r;
  r.seed = seed;
  r.task = "MRPC";
  r.primary_metric = "accuracy";
  r.finished = true;
  r.final_eval = {32, {{"accuracy", final_accuracy}, {"f1", final_f1}}, final_degenerate};
  r.best_eval = {16, {{"accuracy", best_accuracy}, {"f1", best_f1}}, false};
  return r;
}

nlohmann::json Summary(const std::vector<SeedRunResult>& runs) {
  absl::StatusOr<std::string> text = SeedsSummaryJson(runs);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? nlohmann::json::parse(*text) : nlohmann::json();
}

// Hand-computed: accuracy {0.5, 0.75, 0.625}: mean 0.625, median 0.625, sample std
// sqrt((0.125² + 0.125² + 0) / 2) = 0.125. f1 {0.2, 0.6, 0.4}: mean 0.4, std 0.2.
// Best accuracy {0.75, 0.875, 0.75}: mean 0.7916667, median 0.75, std
// sqrt((2 · 0.0416667² + 0.0833333²) / 2) = 0.0721688.
TEST(SeedsSummaryTest, FinalAndBestOverThreeSeeds) {
  const nlohmann::json j = Summary({SeedRun(1, 0.5, 0.2, 0.75, 0.3), SeedRun(2, 0.75, 0.6, 0.875, 0.7, true),
                                    SeedRun(3, 0.625, 0.4, 0.75, 0.5)});
  EXPECT_EQ(j["task"], "MRPC");
  EXPECT_EQ(j["primary_metric"], "accuracy");
  EXPECT_EQ(j["seeds"], nlohmann::json({1, 2, 3}));
  const nlohmann::json& accuracy = j["final"]["metrics"]["accuracy"];
  EXPECT_DOUBLE_EQ(accuracy["mean"].get<double>(), 0.625);
  EXPECT_DOUBLE_EQ(accuracy["median"].get<double>(), 0.625);
  EXPECT_DOUBLE_EQ(accuracy["std"].get<double>(), 0.125);
  EXPECT_DOUBLE_EQ(accuracy["min"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(accuracy["max"].get<double>(), 0.75);
  EXPECT_EQ(accuracy["values"], nlohmann::json({0.5, 0.75, 0.625}));
  const nlohmann::json& f1 = j["final"]["metrics"]["f1"];
  EXPECT_NEAR(f1["mean"].get<double>(), 0.4, 1e-12);
  EXPECT_NEAR(f1["std"].get<double>(), 0.2, 1e-12);
  const nlohmann::json& best = j["best"]["metrics"]["accuracy"];
  EXPECT_NEAR(best["mean"].get<double>(), 0.7916667, 1e-7);
  EXPECT_DOUBLE_EQ(best["median"].get<double>(), 0.75);
  EXPECT_NEAR(best["std"].get<double>(), 0.0721688, 1e-7);
  EXPECT_DOUBLE_EQ(best["max"].get<double>(), 0.875);
  EXPECT_EQ(j["final"]["degenerate_seeds"], nlohmann::json({2}));
  EXPECT_EQ(j["best"]["degenerate_seeds"], nlohmann::json::array());
}

// Two seeds: the median is the mean of both (numpy.median); std |a - b| / sqrt(2).
TEST(SeedsSummaryTest, TwoSeedsMedianIsTheMiddle) {
  const nlohmann::json j = Summary({SeedRun(7, 0.5, 0.1, 0.5, 0.1), SeedRun(8, 0.75, 0.1, 0.75, 0.1)});
  const nlohmann::json& accuracy = j["final"]["metrics"]["accuracy"];
  EXPECT_DOUBLE_EQ(accuracy["median"].get<double>(), 0.625);
  EXPECT_NEAR(accuracy["std"].get<double>(), 0.25 / std::sqrt(2.0), 1e-12);
  EXPECT_DOUBLE_EQ(j["final"]["metrics"]["f1"]["std"].get<double>(), 0);
}

TEST(SeedsSummaryTest, OneSeedHasNoStandardDeviation) {
  const nlohmann::json j = Summary({SeedRun(1, 0.5, 0.2, 0.75, 0.3)});
  EXPECT_TRUE(j["final"]["metrics"]["accuracy"]["std"].is_null());
  EXPECT_DOUBLE_EQ(j["final"]["metrics"]["accuracy"]["mean"].get<double>(), 0.5);
}

TEST(SeedsSummaryTest, RefusesMismatchedOrEmptyRuns) {
  EXPECT_EQ(SeedsSummaryJson({}).status().code(), absl::StatusCode::kInvalidArgument);
  SeedRunResult other = SeedRun(2, 0.5, 0.2, 0.75, 0.3);
  other.final_eval.metrics[1].first = "matthews_corrcoef";
  absl::StatusOr<std::string> mismatched = SeedsSummaryJson({SeedRun(1, 0.5, 0.2, 0.75, 0.3), other});
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.status().message().find("matthews_corrcoef"), std::string::npos) << mismatched.status();
  SeedRunResult nan = SeedRun(2, NAN, 0.2, 0.75, 0.3);
  EXPECT_EQ(SeedsSummaryJson({SeedRun(1, 0.5, 0.2, 0.75, 0.3), nan}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(SeedsSummaryTest, TableNamesEveryMetricAndTheDegenerateSeeds) {
  absl::StatusOr<std::string> table =
      SeedsSummaryTable({SeedRun(1, 0.5, 0.2, 0.75, 0.3), SeedRun(2, 0.75, 0.6, 0.875, 0.7, true)});
  ASSERT_TRUE(table.ok()) << table.status();
  for (const char* want : {"final accuracy", "final f1", "best accuracy", "best f1", "0.6250", "degenerate (final): seeds 2"}) {
    EXPECT_NE(table->find(want), std::string::npos) << want << " not in\n" << *table;
  }
}

std::string TempDir(const std::string& name) {
  const std::string dir = absl::StrCat(std::getenv("TEST_TMPDIR") ? std::getenv("TEST_TMPDIR") : "/tmp", "/", name);
  std::filesystem::create_directories(dir);
  return dir;
}

// eval_results.json as training_run.cc writes it; metrics keep the task's order (f1 first
// here), not the alphabetical one.
TEST(SeedsSummaryTest, ReadsEvalResults) {
  const std::string dir = TempDir("read");
  ASSERT_TRUE(util::WriteTextFileAtomically(
                  dir + "/eval_results.json",
                  "{\n  \"task\": \"MRPC\",\n  \"eval_split\": \"dev\",\n  \"primary_metric\": \"f1\",\n"
                  "  \"finished\": true,\n"
                  "  \"final\": {\"step\": 32, \"loss\": 0.7, \"f1\": 0.5, \"accuracy\": 0.25, \"degenerate\": false},\n"
                  "  \"best\": {\"step\": 8, \"loss\": 0.6, \"f1\": 0.75, \"accuracy\": 0.5, \"degenerate\": true},\n"
                  "  \"degenerate\": false\n}\n")
                  .ok());
  absl::StatusOr<SeedRunResult> r = ReadSeedRunResult(dir, 5);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->seed, 5u);
  EXPECT_EQ(r->task, "MRPC");
  EXPECT_EQ(r->primary_metric, "f1");
  EXPECT_TRUE(r->finished);
  EXPECT_EQ(r->final_eval.step, 32);
  ASSERT_EQ(r->final_eval.metrics.size(), 2u);
  EXPECT_EQ(r->final_eval.metrics[0], std::make_pair(std::string("f1"), 0.5));
  EXPECT_EQ(r->final_eval.metrics[1], std::make_pair(std::string("accuracy"), 0.25));
  EXPECT_FALSE(r->final_eval.degenerate);
  EXPECT_TRUE(r->best_eval.degenerate);
  EXPECT_EQ(r->best_eval.metrics[0].second, 0.75);
}

TEST(SeedsSummaryTest, BadEvalResultsNameTheFileAndField) {
  EXPECT_EQ(ReadSeedRunResult(TempDir("empty"), 1).status().code(), absl::StatusCode::kNotFound);
  const std::string dir = TempDir("bad");
  ASSERT_TRUE(util::WriteTextFileAtomically(dir + "/eval_results.json",
                                            "{\"task\": \"RTE\", \"primary_metric\": \"accuracy\", \"finished\": true, "
                                            "\"final\": {\"step\": 1, \"accuracy\": \"high\"}, \"best\": {}}")
                  .ok());
  absl::StatusOr<SeedRunResult> r = ReadSeedRunResult(dir, 1);
  ASSERT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(dir + "/eval_results.json"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("final.accuracy"), std::string::npos) << r.status();
  ASSERT_TRUE(util::WriteTextFileAtomically(dir + "/eval_results.json", "{\"task\": ").ok());
  EXPECT_EQ(ReadSeedRunResult(dir, 1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cloze
