// One example (or window of one) as every fine-tuning head reads it: the encoder's three
// token lists and its labels in the head's layout, so that one batch source and one dev
// forward serve every task family. Converters from the three featurisers' outputs
// (tasks/features.h, tasks/tagging_features.h, tasks/squad_features.h).
//
// Label layouts, and the Batch fields they fill (model/batch.h):
//   kPerSequence  labels = {class} (classification; empty when unlabelled) or target
//                 (regression)                        -> Batch.labels (B) / Batch.targets (B)
//   kPerToken     labels = one per token, kIgnoredLabel (-100) where the loss skips it
//                                                     -> Batch.labels (B·T), padding -100
//   kSpan         labels = {start, end} token indices, negative to ignore
//                                                     -> Batch.labels: B starts, then B ends
#ifndef CLOZE_TRAINER_MODEL_INPUT_H_
#define CLOZE_TRAINER_MODEL_INPUT_H_

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "model/batch.h"
#include "tasks/features.h"
#include "tasks/squad_features.h"
#include "tasks/tagging_features.h"

namespace cloze {

enum class LabelLayout { kPerSequence, kPerToken, kSpan };

// How a task's inputs become batches: the label layout, and for kPerSequence whether the
// target is a real number (regression) rather than a class.
struct BatchLayout {
  LabelLayout labels = LabelLayout::kPerSequence;
  bool regression = false;
};

struct ModelInput {
  int64_t example_index = 0;            // the example (sentence, question) it comes from
  std::vector<int32_t> input_ids;       // unpadded; the three lists have the same length
  std::vector<int32_t> token_type_ids;
  std::vector<int32_t> attention_mask;
  std::vector<int32_t> labels;          // in the layout above
  std::optional<float> target;          // regression
};

// label -> labels {label} (none when absent), score -> target.
ModelInput ToModelInput(const tasks::SequenceFeature& feature);
// The per-token labels as they are (kIgnoredLabel off the words' first sub-tokens).
ModelInput ToModelInput(const tasks::TaggingFeature& feature);
// labels {start_position, end_position}.
ModelInput ToModelInput(const tasks::SquadFeature& feature);

template <typename Feature>
std::vector<ModelInput> ToModelInputs(const std::vector<Feature>& features) {
  std::vector<ModelInput> out;
  out.reserve(features.size());
  for (const Feature& f : features) out.push_back(ToModelInput(f));
  return out;
}

// OK when `input` can be collated in `layout`: three non-empty token lists of one length and
// its labels (or target) in the layout's shape; InvalidArgument naming the input's
// example_index otherwise ("no label (an unlabelled split?)" for a missing class or score).
absl::Status CheckModelInput(const ModelInput& input, const BatchLayout& layout);

// `inputs` padded to their longest (or to `pad_to`, if longer) into one batch: pad_id,
// attention mask 0 and segment 0 on padding, labels as the layout says (per-token labels
// padded with kIgnoredLabel). InvalidArgument for no inputs or one CheckModelInput refuses.
absl::StatusOr<Batch> CollateModelInputs(std::span<const ModelInput* const> inputs, int32_t pad_id,
                                         const BatchLayout& layout, size_t pad_to = 0);

}  // namespace cloze

#endif  // CLOZE_TRAINER_MODEL_INPUT_H_
