// A model restored from a training checkpoint, for inference (cloze fill-mask; cloze
// predict goes through the fine-tuning task and a TrainingBackend instead): the checkpoint
// manifest's train_config says which model and head to build (the pretraining head, or a
// fine-tuning run's head), then the checkpoint's parameters fill it.
#ifndef CLOZE_CLI_CHECKPOINT_MODEL_H_
#define CLOZE_CLI_CHECKPOINT_MODEL_H_

#include <string>

#include "absl/status/statusor.h"
#include "model/model.h"
#include "proto/checkpoint.pb.h"

namespace cloze::cli {

struct CheckpointModel {
  std::string checkpoint_dir;   // the step folder the parameters came from
  CheckpointManifest manifest;  // its manifest (train_config, tokenizer_fingerprint)
  Model model;
};

// `path` is a checkpoint step folder (holding manifest.pb.txt) or a run folder, whose
// newest valid checkpoint is used (damaged ones are skipped with a warning on stderr).
// Errors: NotFound when `path` is neither or the run has no valid checkpoint, naming it;
// InvalidArgument for a manifest without a valid train_config.model; the checkpoint's own
// errors (DataLoss, FailedPrecondition naming the tensor) otherwise. The model runs its
// matrix products at `precision`, whatever precision the checkpoint was trained at.
absl::StatusOr<CheckpointModel> LoadCheckpointModel(const std::string& path,
                                                    cpu::Precision precision = cpu::Precision::kFp32);

}  // namespace cloze::cli

#endif  // CLOZE_CLI_CHECKPOINT_MODEL_H_
