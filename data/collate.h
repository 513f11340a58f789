// Turns stored examples into the model's fixed-shape Batch.
#ifndef CLOZE_DATA_COLLATE_H_
#define CLOZE_DATA_COLLATE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "proto/data.pb.h"
#include "model/batch.h"

namespace cloze::data {

struct CollateOptions {
  int seq_len = 0;                  // T: every row is padded to it (> 0)
  int max_predictions_per_seq = 0;  // every row contributes exactly this many predictions (>= 0)
  int32_t pad_id = 0;               // <pad> in ALBERT's and BERT's vocabularies
  int vocab_size = 0;               // when > 0, ids and labels must lie below it
};

// A Batch of B = examples.size() rows, T = seq_len, with the same shapes for every call:
//   input_ids       (B, T)  the example's ids, then pad_id;
//   token_type_ids  (B, T)  0 before segment_b_start, 1 from it to the last token, 0 on padding;
//   attention_mask  (B, T)  1 on tokens, 0 on padding;
//   masked_positions, masked_labels  (B * max_predictions_per_seq): row b's predictions at
//                   flat positions b*T + t with their labels, then padding entries with
//                   position 0 and label -1 (ignored by the loss);
//   sentence_labels (B)     the examples' sentence_label.
// InvalidArgument when the options are bad, examples is empty, or an example fails
// ValidateExample (longer than seq_len, more predictions than max_predictions_per_seq, a
// position outside its tokens, ...). Errors name the example: "example 4711 (batch row 3):
// Example.input_ids: has 130 tokens, more than the sequence length 128", where 4711 is
// example_ids[3] when example_ids is given (same length as examples), else just the row.
absl::StatusOr<Batch> Collate(absl::Span<const Example> examples, const CollateOptions& options,
                              absl::Span<const int64_t> example_ids = {});

}  // namespace cloze::data

#endif  // CLOZE_DATA_COLLATE_H_
