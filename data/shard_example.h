// What makes a cloze.Example well formed, checked when it is written and when it is batched.
#ifndef CLOZE_DATA_SHARD_EXAMPLE_H_
#define CLOZE_DATA_SHARD_EXAMPLE_H_

#include "absl/status/status.h"
#include "proto/data.pb.h"

namespace cloze::data {

// Bounds an example must respect; 0 leaves a bound unchecked.
struct ExampleLimits {
  int max_seq_length = 0;   // input_ids.size() <= this
  int max_predictions = 0;  // masked_positions.size() <= this
  int vocab_size = 0;       // every id and label in [0, vocab_size)
};

// OK when `example` is consumable:
//   - 1 <= input_ids.size() (<= max_seq_length), ids >= 0 (< vocab_size);
//   - 1 <= segment_b_start <= input_ids.size() (equal: no segment B; 0 is refused because
//     it is proto3's "unset" and position 0 holds [CLS]);
//   - masked_positions and masked_labels of equal length (<= max_predictions), positions
//     strictly ascending inside [0, input_ids.size()), labels >= 0 (< vocab_size);
//   - sentence_label 0 or 1.
// Otherwise InvalidArgument naming the field and element, e.g.
// "Example.masked_positions[2]: 140 is outside [0, 128)"; the caller prefixes which example.
absl::Status ValidateExample(const Example& example, const ExampleLimits& limits);

}  // namespace cloze::data

#endif  // CLOZE_DATA_SHARD_EXAMPLE_H_
