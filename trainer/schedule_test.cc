#include "trainer/schedule.h"

#include <cmath>

#include "checkpoint/safetensors.h"
#include "gtest/gtest.h"

namespace cloze {
namespace {

ScheduleConfig Schedule(int64_t warmup, float power, float end) {
  ScheduleConfig schedule;
  schedule.set_warmup_steps(warmup);
  schedule.set_power(power);
  schedule.set_end_learning_rate(end);
  return schedule;
}

// ALBERT's pretraining schedule: peak 0.00176, 3,125 warmup steps of 125,000, linear
// decay to 0.
TEST(Schedule, AlbertPretrainingAtKeySteps) {
  const ScheduleConfig albert = Schedule(3125, 1.0f, 0.0f);
  const float peak = 0.00176f;
  const int64_t total = 125000;
  ASSERT_TRUE(ValidateSchedule(albert, total).ok());
  auto lr = [&](int64_t step) { return LearningRateAt(albert, peak, total, step); };
  // The first update has learning rate 0 (global_step 0 / warmup).
  EXPECT_EQ(lr(0), 0.0f);
  EXPECT_FLOAT_EQ(lr(1), peak / 3125.0);
  EXPECT_FLOAT_EQ(lr(3124), peak * (3124.0 / 3125.0));
  // The decay counts from step 0, so it does not start at the peak.
  EXPECT_FLOAT_EQ(lr(3125), peak * (1.0 - 3125.0 / 125000.0));
  EXPECT_FLOAT_EQ(lr(62500), peak * 0.5);
  EXPECT_FLOAT_EQ(lr(124999), peak * (1.0 / 125000.0));
  EXPECT_EQ(lr(125000), 0.0f);
  EXPECT_EQ(lr(125001), 0.0f);
  EXPECT_EQ(lr(1000000), 0.0f);
  // Rising through warmup, falling after.
  for (int64_t step = 1; step < 3125; step += 97) EXPECT_LT(lr(step - 1), lr(step)) << step;
  for (int64_t step = 3126; step <= total; step += 997) EXPECT_GE(lr(step - 1), lr(step)) << step;
}

TEST(Schedule, PolynomialDecayToAnEndLearningRate) {
  const ScheduleConfig schedule = Schedule(10, 2.0f, 1e-4f);
  const float peak = 1e-3f;
  const double end = 1e-4f;  // the float value, as the schedule sees it
  auto expected = [&](double step) {
    return static_cast<float>((peak - end) * std::pow(1.0 - step / 100.0, 2.0) + end);
  };
  EXPECT_EQ(LearningRateAt(schedule, peak, 100, 0), 0.0f);
  EXPECT_FLOAT_EQ(LearningRateAt(schedule, peak, 100, 5), peak * 0.5);
  EXPECT_FLOAT_EQ(LearningRateAt(schedule, peak, 100, 10), expected(10));
  EXPECT_FLOAT_EQ(LearningRateAt(schedule, peak, 100, 50), expected(50));
  EXPECT_FLOAT_EQ(LearningRateAt(schedule, peak, 100, 99), expected(99));
  EXPECT_EQ(LearningRateAt(schedule, peak, 100, 100), 1e-4f);
  EXPECT_EQ(LearningRateAt(schedule, peak, 100, 5000), 1e-4f);
}

TEST(Schedule, WithoutWarmupStartsAtThePeak) {
  const ScheduleConfig schedule = Schedule(0, 1.0f, 0.0f);
  EXPECT_EQ(LearningRateAt(schedule, 0.5f, 4, 0), 0.5f);
  EXPECT_EQ(LearningRateAt(schedule, 0.5f, 4, 1), 0.375f);
  EXPECT_EQ(LearningRateAt(schedule, 0.5f, 4, 4), 0.0f);
}

TEST(Schedule, WarmupAsLongAsTheRun) {
  const ScheduleConfig schedule = Schedule(4, 1.0f, 0.0f);
  ASSERT_TRUE(ValidateSchedule(schedule, 4).ok());
  EXPECT_EQ(LearningRateAt(schedule, 1.0f, 4, 0), 0.0f);
  EXPECT_EQ(LearningRateAt(schedule, 1.0f, 4, 3), 0.75f);
  EXPECT_EQ(LearningRateAt(schedule, 1.0f, 4, 4), 0.0f);
}

TEST(Schedule, InvalidSchedulesNameTheField) {
  struct Case {
    ScheduleConfig schedule;
    int64_t total_steps;
    const char* field;
  };
  const Case cases[] = {
      {Schedule(0, 1, 0), 0, "TrainConfig.total_steps"},
      {Schedule(-1, 1, 0), 10, "ScheduleConfig.warmup_steps"},
      {Schedule(11, 1, 0), 10, "ScheduleConfig.warmup_steps"},
      {Schedule(1, 0, 0), 10, "ScheduleConfig.power"},  // the proto default
      {Schedule(1, NAN, 0), 10, "ScheduleConfig.power"},
      {Schedule(1, 1, -1e-3f), 10, "ScheduleConfig.end_learning_rate"},
      {Schedule(1, 1, INFINITY), 10, "ScheduleConfig.end_learning_rate"},
  };
  for (const Case& c : cases) {
    const absl::Status status = ValidateSchedule(c.schedule, c.total_steps);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find(c.field), std::string::npos) << status;
  }
}

TEST(ScheduleDeathTest, NegativeStepIsAProgrammerError) {
  EXPECT_DEATH(LearningRateAt(Schedule(1, 1, 0), 1.0f, 10, -1), "step = -1");
}


// Hugging Face's fine-tuning schedule against the rates transformers'
// get_linear_schedule_with_warmup(W=2, T=20) gave each update of the golden fine-tuning
// trajectory (tests/golden/finetune_trajectory.py, peak 1e-3).
TEST(Schedule, LinearFromWarmupMatchesTransformers) {
  absl::StatusOr<SafetensorsFile> golden =
      SafetensorsFile::Read("tests/golden/albert_seqcls_trajectory.safetensors");
  ASSERT_TRUE(golden.ok()) << golden.status();
  absl::StatusOr<std::vector<double>> rates = golden->Float64("output.learning_rate");
  ASSERT_TRUE(rates.ok()) << rates.status();
  ASSERT_EQ(rates->size(), 20u);
  ScheduleConfig hf;
  hf.set_warmup_steps(2);
  hf.set_decay(ScheduleConfig::LINEAR_FROM_WARMUP);
  ASSERT_TRUE(ValidateSchedule(hf, 20).ok());
  for (int64_t step = 0; step < 20; ++step) {
    // Both round the same double to float; torch stores the double itself.
    EXPECT_EQ(LearningRateAt(hf, 1e-3f, 20, step), static_cast<float>((*rates)[step])) << "step " << step;
  }
  // It reaches the peak at the end of warmup (ALBERT's does not) and 0 at total_steps.
  EXPECT_EQ(LearningRateAt(hf, 1e-3f, 20, 2), 1e-3f);
  EXPECT_EQ(LearningRateAt(hf, 1e-3f, 20, 20), 0.0f);
  EXPECT_EQ(LearningRateAt(hf, 1e-3f, 20, 25), 0.0f);
}

TEST(Schedule, LinearFromWarmupNeedsAStepToDecay) {
  ScheduleConfig hf;
  hf.set_warmup_steps(20);
  hf.set_decay(ScheduleConfig::LINEAR_FROM_WARMUP);
  const absl::Status s = ValidateSchedule(hf, 20);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("ScheduleConfig.warmup_steps"), std::string::npos) << s;
  hf.set_warmup_steps(0);  // power 0 is fine here: it is not used
  EXPECT_TRUE(ValidateSchedule(hf, 20).ok());
}

}  // namespace
}  // namespace cloze
