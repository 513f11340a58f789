#include "model/batch.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace cloze {
namespace {

absl::Status CheckLength(const char* field, const std::vector<int32_t>& values, int64_t expected) {
  if (static_cast<int64_t>(values.size()) == expected) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat("Batch.", field, ": has ", values.size(), " elements, expected ", expected));
}

// Every element in [lo, hi), or (when allow_negative) any negative value meaning "ignore".
absl::Status CheckRange(const char* field, const std::vector<int32_t>& values, int64_t lo,
                        int64_t hi, bool allow_negative = false) {
  for (size_t i = 0; i < values.size(); ++i) {
    const int32_t v = values[i];
    if ((v >= lo && v < hi) || (allow_negative && v < 0)) continue;
    return absl::InvalidArgumentError(
        absl::StrCat("Batch.", field, "[", i, "]: ", v, " is outside [", lo, ", ", hi, ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateInputs(const Batch& b, const ModelConfig& config) {
  if (b.batch_size <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("Batch.batch_size: must be positive, got ", b.batch_size));
  }
  if (b.seq_len <= 0 || b.seq_len > config.max_position_embeddings()) {
    return absl::InvalidArgumentError(absl::StrCat("Batch.seq_len: ", b.seq_len,
                                                   " is outside [1, max_position_embeddings = ",
                                                   config.max_position_embeddings(), "]"));
  }
  const int64_t tokens = static_cast<int64_t>(b.batch_size) * b.seq_len;
  absl::Status s;
  if (s = CheckLength("input_ids", b.input_ids, tokens); !s.ok()) return s;
  if (s = CheckLength("token_type_ids", b.token_type_ids, tokens); !s.ok()) return s;
  if (s = CheckLength("attention_mask", b.attention_mask, tokens); !s.ok()) return s;
  if (s = CheckRange("input_ids", b.input_ids, 0, config.vocab_size()); !s.ok()) return s;
  if (s = CheckRange("token_type_ids", b.token_type_ids, 0, config.type_vocab_size()); !s.ok()) return s;
  return CheckRange("attention_mask", b.attention_mask, 0, 2);
}

absl::Status ValidateBatch(const Batch& b, const ModelConfig& config) {
  absl::Status s = ValidateInputs(b, config);
  if (!s.ok()) return s;
  const int64_t tokens = static_cast<int64_t>(b.batch_size) * b.seq_len;
  if (s = CheckLength("masked_labels", b.masked_labels, b.masked_positions.size()); !s.ok()) return s;
  if (s = CheckLength("sentence_labels", b.sentence_labels, b.batch_size); !s.ok()) return s;
  if (s = CheckRange("masked_positions", b.masked_positions, 0, tokens); !s.ok()) return s;
  if (s = CheckRange("masked_labels", b.masked_labels, 0, config.vocab_size(), true); !s.ok()) return s;
  if (s = CheckRange("sentence_labels", b.sentence_labels, 0, 2, true); !s.ok()) return s;
  return absl::OkStatus();
}

absl::Status CheckLabels(const char* field, const std::vector<int32_t>& values, int64_t expected,
                         int64_t lo, int64_t hi) {
  if (absl::Status s = CheckLength(field, values, expected); !s.ok()) return s;
  return CheckRange(field, values, lo, hi, true);
}

}  // namespace cloze
