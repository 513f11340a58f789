// What every task's evaluation shares: its dev inputs through the model in eval mode, in
// batches padded to their longest input, with each input's logits cut back to its own rows.
#ifndef CLOZE_TRAINER_FINETUNE_DEV_FORWARD_H_
#define CLOZE_TRAINER_FINETUNE_DEV_FORWARD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trainer/model_input.h"
#include "trainer/training_backend.h"

namespace cloze::finetune {

struct DevOutputs {
  // The mean over the head's loss terms that counted predictions of each term's mean loss.
  double loss = 0;
  // logits[o][i]: input i's logits of head output o (TrainingBackend::Logits(o)): its row
  // (per-sequence layout), or its own tokens' rows, padding cut off (per-token and span
  // layouts: input_ids.size() × the per-token width).
  std::vector<std::vector<std::vector<float>>> logits;
};

// `inputs` through `model` (StepOptions{}: no dropout) in batches of `batch_size`, reading
// head outputs 0 .. outputs - 1. Errors: the model's; InvalidArgument naming `split` when
// an input cannot be collated or the logits do not divide into the batch's rows.
absl::StatusOr<DevOutputs> ForwardDev(TrainingBackend& model, const std::vector<ModelInput>& inputs,
                                      const BatchLayout& layout, int32_t pad_id, int batch_size, int outputs,
                                      const std::string& split);

// A JSON number, or null when not finite.
std::string JsonNumber(double value);

}  // namespace cloze::finetune

#endif  // CLOZE_TRAINER_FINETUNE_DEV_FORWARD_H_
