// A batch of pretraining examples as the model consumes it, and its validation.
#ifndef CLOZE_MODEL_BATCH_H_
#define CLOZE_MODEL_BATCH_H_

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"

namespace cloze {

// B examples of T tokens, flattened row-major. The MLM head predicts only the M listed
// positions; padding of that list (ALBERT's fixed max_predictions_per_seq) carries
// label -1 and is ignored, as are sentence labels < 0.
struct Batch {
  int batch_size = 0;                     // B
  int seq_len = 0;                        // T
  std::vector<int32_t> input_ids;         // (B, T) token ids
  std::vector<int32_t> token_type_ids;    // (B, T) segment A = 0, B = 1
  std::vector<int32_t> attention_mask;    // (B, T) 1 = token, 0 = padding
  std::vector<int32_t> masked_positions;  // (M) flat index b·T + t of each prediction
  std::vector<int32_t> masked_labels;     // (M) original token id, or < 0 to ignore
  std::vector<int32_t> sentence_labels;   // (B) SOP: 0 in order, 1 swapped (NSP: 1 random); < 0 ignores
};

// OK when every field has the right length and every id is in range for `config`;
// otherwise InvalidArgument naming the field and the first bad element, e.g.
// "Batch.input_ids[37]: 30001 is outside [0, 30000)".
absl::Status ValidateBatch(const Batch& batch, const ModelConfig& config);

// The predictions a batch's loss counts: masked labels and sentence labels >= 0. Known
// before the forward pass, so a data-parallel step can agree on its loss normalizer first.
struct PredictionCounts {
  int64_t mlm = 0, sentence = 0;
};
PredictionCounts CountPredictions(const Batch& batch);

}  // namespace cloze

#endif  // CLOZE_MODEL_BATCH_H_
