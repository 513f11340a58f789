// Loading and validating TrainConfig (proto/train_config.proto).
#ifndef CLOZE_TRAINER_TRAIN_CONFIG_H_
#define CLOZE_TRAINER_TRAIN_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"

namespace cloze {

// ALBERT's training recipe (LAMB, β 0.9/0.999, ε 1e-6, decay 0.01, clipping at 1.0,
// 3,125 warmup steps, linear decay over total_steps, the guard on) with sizes for a small
// CPU run; model and dataset left empty.
TrainConfig DefaultTrainConfig();

// Reads a text-format TrainConfig from `path`; fields not given keep DefaultTrainConfig's
// values. Validated (the model with ValidateModelConfig); errors name the file and field.
absl::StatusOr<TrainConfig> LoadTrainConfig(const std::string& path);

// `config` as the text of a file that LoadTrainConfig reads back as `config`: text format
// with the fields at zero that DefaultTrainConfig sets otherwise written out (plain text
// format leaves them out, and loading would turn no weight decay, no warmup or seed 0 into
// the defaults).
std::string TrainConfigText(const TrainConfig& config);

// InvalidArgument naming the first bad field, e.g. "TrainConfig.batch_size: must be
// positive, got 0".
absl::Status ValidateTrainConfig(const TrainConfig& config);

}  // namespace cloze

#endif  // CLOZE_TRAINER_TRAIN_CONFIG_H_
