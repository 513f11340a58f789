// A batch of examples as the model consumes it (pretraining or a downstream task), and its
// validation.
#ifndef CLOZE_MODEL_BATCH_H_
#define CLOZE_MODEL_BATCH_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"

namespace cloze {

// B examples of T tokens, flattened row-major: the encoder's inputs, then the labels of the
// model's head. The pretraining head predicts only the M listed masked positions; padding of
// that list (ALBERT's fixed max_predictions_per_seq) carries label -1 and is ignored, as are
// sentence labels < 0. The downstream heads read `labels` / `targets`, whose shape each head
// defines (trainer/heads/*.h): classification (B), tagging (B·T), spans (2B: start, end of
// each example); regression reads `targets` (B). Negative labels are ignored everywhere
// (Hugging Face's −100).
struct Batch {
  int batch_size = 0;                     // B
  int seq_len = 0;                        // T
  std::vector<int32_t> input_ids;         // (B, T) token ids
  std::vector<int32_t> token_type_ids;    // (B, T) segment A = 0, B = 1
  std::vector<int32_t> attention_mask;    // (B, T) 1 = token, 0 = padding
  std::vector<int32_t> masked_positions;  // (M) flat index b·T + t of each prediction
  std::vector<int32_t> masked_labels;     // (M) original token id, or < 0 to ignore
  std::vector<int32_t> sentence_labels;   // (B) SOP: 0 in order, 1 swapped (NSP: 1 random); < 0 ignores
  std::vector<int32_t> labels;            // the downstream head's class labels (see above)
  std::vector<float> targets;             // the regression head's targets (B)
};

// The encoder's inputs: OK when the shape is usable by `config` and input_ids,
// token_type_ids and attention_mask have B·T elements in range; otherwise InvalidArgument
// naming the field and the first bad element, e.g.
// "Batch.input_ids[37]: 30001 is outside [0, 30000)".
absl::Status ValidateInputs(const Batch& batch, const ModelConfig& config);

// ValidateInputs, and the pretraining labels (masked positions and labels, sentence labels):
// what the pretraining head reads.
absl::Status ValidateBatch(const Batch& batch, const ModelConfig& config);

// A label field's checks, for the heads: `values` has `expected` elements, each in [lo, hi)
// or negative (ignored); InvalidArgument naming Batch.<field> and the first bad element.
absl::Status CheckLabels(const char* field, const std::vector<int32_t>& values, int64_t expected,
                         int64_t lo, int64_t hi);

}  // namespace cloze

#endif  // CLOZE_MODEL_BATCH_H_
