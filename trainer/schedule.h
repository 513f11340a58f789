// The learning-rate schedule: linear warmup, then polynomial decay (ScheduleConfig).
//
// Exactly ALBERT's definition (google-research/albert optimization.py, create_optimizer;
// BERT's optimization.py is the same with power 1 and no start_warmup_step), with
// `step` the number of optimizer steps already completed (TF's global_step while the
// step is computed: it is incremented after apply_gradients):
//
//   step < warmup_steps:  lr = peak · step / warmup_steps
//   otherwise:            lr = (peak − end) · (1 − min(step, total_steps) / total_steps)^power + end
//
// Consequences of that definition, kept on purpose:
// - the first update (step 0) has learning rate 0 whenever warmup_steps > 0, and warmup
//   reaches peak·(warmup−1)/warmup, never peak itself;
// - the decay branch counts from step 0, not from the end of warmup (tf.train.polynomial_decay
//   on global_step), so at step == warmup_steps lr = (peak − end)·(1 − warmup/total)^power + end,
//   a little below the peak;
// - warmup climbs towards peak from 0, not from end_learning_rate;
// - from total_steps on, lr stays at end_learning_rate (polynomial_decay with cycle=False
//   clamps the step). ALBERT fixes end_learning_rate at 0; here it is configurable.
//
// With decay LINEAR_FROM_WARMUP it is instead Hugging Face's get_linear_schedule_with_warmup
// (transformers/optimization.py), `step` being the scheduler's count of completed updates:
//
//   step < warmup_steps:  lr = peak · step / warmup_steps
//   otherwise:            lr = peak · max(0, (total_steps − step) / (total_steps − warmup_steps))
//
// so it does reach the peak at step == warmup_steps, and end_learning_rate and power are
// ignored.
// Computed in double and rounded once to float (TF computes in float32, so values can
// differ from TF's in the last bit).
#ifndef CLOZE_TRAINER_SCHEDULE_H_
#define CLOZE_TRAINER_SCHEDULE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "proto/train_config.pb.h"

namespace cloze {

// InvalidArgument naming the field unless total_steps >= 1, 0 <= warmup_steps <=
// total_steps, power > 0 and end_learning_rate >= 0 (all finite); LINEAR_FROM_WARMUP needs
// warmup_steps < total_steps and ignores power and end_learning_rate. A power of 0 (the
// proto default) is refused rather than read as "constant": it would never decay.
absl::Status ValidateSchedule(const ScheduleConfig& schedule, int64_t total_steps);

// The learning rate for the update made after `step` completed steps (step >= 0; a
// negative step is a programmer error and aborts). The schedule must be valid.
float LearningRateAt(const ScheduleConfig& schedule, float peak_learning_rate,
                     int64_t total_steps, int64_t step);

}  // namespace cloze

#endif  // CLOZE_TRAINER_SCHEDULE_H_
