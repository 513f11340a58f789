#include "data/collate.h"

#include <cstddef>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "data/shard_example.h"

namespace cloze::data {

absl::StatusOr<Batch> Collate(absl::Span<const Example> examples, const CollateOptions& options,
                              absl::Span<const int64_t> example_ids) {
  if (options.seq_len <= 0 || options.max_predictions_per_seq < 0) {
    return absl::InvalidArgumentError(absl::StrCat("CollateOptions: seq_len ", options.seq_len,
                                                   " must be positive and max_predictions_per_seq ",
                                                   options.max_predictions_per_seq, " non-negative"));
  }
  if (examples.empty()) return absl::InvalidArgumentError("Collate: no examples");
  if (!example_ids.empty() && example_ids.size() != examples.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("Collate: ", example_ids.size(), " example ids for ", examples.size(), " examples"));
  }
  if (static_cast<int64_t>(examples.size()) * options.seq_len > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("Collate: ", examples.size(), " x ", options.seq_len,
                                                   " tokens do not fit the int32 flat positions"));
  }
  const int rows = static_cast<int>(examples.size());
  const int t_len = options.seq_len;
  const int m_per_row = options.max_predictions_per_seq;
  const ExampleLimits limits{t_len, m_per_row, options.vocab_size};
  Batch batch;
  batch.batch_size = rows;
  batch.seq_len = t_len;
  const size_t tokens = static_cast<size_t>(rows) * t_len;
  batch.input_ids.assign(tokens, options.pad_id);
  batch.token_type_ids.assign(tokens, 0);
  batch.attention_mask.assign(tokens, 0);
  batch.masked_positions.assign(static_cast<size_t>(rows) * m_per_row, 0);
  batch.masked_labels.assign(static_cast<size_t>(rows) * m_per_row, -1);
  batch.sentence_labels.assign(rows, 0);
  for (int b = 0; b < rows; ++b) {
    const Example& e = examples[b];
    if (absl::Status s = ValidateExample(e, limits); !s.ok()) {
      const std::string name = example_ids.empty()
                                   ? absl::StrCat("batch row ", b)
                                   : absl::StrCat("example ", example_ids[b], " (batch row ", b, ")");
      return absl::InvalidArgumentError(absl::StrCat(name, ": ", s.message()));
    }
    const size_t row = static_cast<size_t>(b) * t_len;
    for (int t = 0; t < e.input_ids_size(); ++t) {
      batch.input_ids[row + t] = e.input_ids(t);
      batch.attention_mask[row + t] = 1;
      batch.token_type_ids[row + t] = t >= e.segment_b_start() ? 1 : 0;
    }
    const size_t first = static_cast<size_t>(b) * m_per_row;
    for (int i = 0; i < e.masked_positions_size(); ++i) {
      batch.masked_positions[first + i] = static_cast<int32_t>(row + e.masked_positions(i));
      batch.masked_labels[first + i] = e.masked_labels(i);
    }
    batch.sentence_labels[b] = e.sentence_label();
  }
  return batch;
}

}  // namespace cloze::data
