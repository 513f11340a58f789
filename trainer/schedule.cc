#include "trainer/schedule.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace cloze {
namespace {

absl::Status Invalid(const char* field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", message));
}

}  // namespace

absl::Status ValidateSchedule(const ScheduleConfig& schedule, int64_t total_steps) {
  if (total_steps < 1) {
    return Invalid("TrainConfig.total_steps", absl::StrCat(total_steps, " is not >= 1"));
  }
  if (schedule.warmup_steps() < 0 || schedule.warmup_steps() > total_steps) {
    return Invalid("ScheduleConfig.warmup_steps",
                   absl::StrCat(schedule.warmup_steps(), " is not in [0, total_steps = ",
                                total_steps, "]"));
  }
  if (schedule.decay() == ScheduleConfig::LINEAR_FROM_WARMUP) {
    if (schedule.warmup_steps() == total_steps) {
      return Invalid("ScheduleConfig.warmup_steps",
                     absl::StrCat(total_steps, " = total_steps leaves no step to decay over (LINEAR_FROM_WARMUP)"));
    }
    return absl::OkStatus();  // power and end_learning_rate are not used
  }
  if (!std::isfinite(schedule.power()) || schedule.power() <= 0) {
    return Invalid("ScheduleConfig.power",
                   absl::StrCat(schedule.power(), " is not > 0 (ALBERT and BERT use 1)"));
  }
  if (!std::isfinite(schedule.end_learning_rate()) || schedule.end_learning_rate() < 0) {
    return Invalid("ScheduleConfig.end_learning_rate",
                   absl::StrCat(schedule.end_learning_rate(), " is not >= 0"));
  }
  return absl::OkStatus();
}

float LearningRateAt(const ScheduleConfig& schedule, float peak_learning_rate,
                     int64_t total_steps, int64_t step) {
  if (step < 0) {
    std::fprintf(stderr, "LearningRateAt: step = %lld (need step >= 0)\n",
                 static_cast<long long>(step));
    std::abort();
  }
  const double peak = peak_learning_rate;
  const int64_t warmup = schedule.warmup_steps();
  if (step < warmup) {
    return static_cast<float>(peak * (static_cast<double>(step) / static_cast<double>(warmup)));
  }
  if (schedule.decay() == ScheduleConfig::LINEAR_FROM_WARMUP) {
    const double left = static_cast<double>(total_steps - step) / static_cast<double>(total_steps - warmup);
    return static_cast<float>(peak * std::max(0.0, left));
  }
  const double end = schedule.end_learning_rate();
  const double done = static_cast<double>(std::min(step, total_steps)) / static_cast<double>(total_steps);
  return static_cast<float>((peak - end) * std::pow(1.0 - done, double{schedule.power()}) + end);
}

}  // namespace cloze
