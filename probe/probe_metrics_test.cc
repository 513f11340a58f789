#include "probe/probe_metrics.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloze::probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ProbeRecord Record(int64_t step, const std::string& probe, std::optional<int> layer, const std::string& name,
                   double accuracy) {
  return {.step = step, .checkpoint = "c", .probe = probe, .layer = layer, .class_name = name, .accuracy = accuracy};
}

TEST(ProbeMetrics, TheNewestCheckpointOfEachProbeWins) {
  absl::StatusOr<std::unique_ptr<ProbeMetrics>> metrics = ProbeMetrics::Start("", "run-a");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  (*metrics)->Publish({Record(4, "fill", std::nullopt, "DET", 0.5), Record(2, "fill", std::nullopt, "DET", 0.25),
                       Record(2, "upos", 1, "overall", 0.75)});
  (*metrics)->Publish({Record(1, "upos", 1, "overall", 0.125)});  // older: kept out
  const std::string text = (*metrics)->ExpositionText();
  EXPECT_THAT(text, HasSubstr(R"(cloze_probe_accuracy{class="DET",layer="mlm_head",probe="fill",run="run-a"} 0.5)"));
  EXPECT_THAT(text, HasSubstr(R"(cloze_probe_accuracy{class="overall",layer="1",probe="upos",run="run-a"} 0.75)"));
  EXPECT_THAT(text, HasSubstr(R"(cloze_probe_step{probe="fill",run="run-a"} 4)"));
  EXPECT_THAT(text, HasSubstr(R"(cloze_probe_step{probe="upos",run="run-a"} 2)"));
  EXPECT_THAT(text, Not(HasSubstr("0.125")));
  EXPECT_THAT(text, Not(HasSubstr("0.25")));
}

TEST(ProbeMetrics, ServesOnAFreePort) {
  absl::StatusOr<std::unique_ptr<ProbeMetrics>> metrics = ProbeMetrics::Start("127.0.0.1:0", "run-b");
  ASSERT_TRUE(metrics.ok()) << metrics.status();
  EXPECT_GT((*metrics)->port(), 0);
}

}  // namespace
}  // namespace cloze::probe
