#include "data/shard_example.h"

#include "absl/strings/str_cat.h"

namespace cloze::data {
namespace {

absl::Status Error(const char* field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("Example.", field, message));
}

// Every element of `values` in [0, hi); hi <= 0 means no upper bound.
template <typename Values>
absl::Status CheckIds(const char* field, const Values& values, int hi) {
  for (int i = 0; i < values.size(); ++i) {
    if (values[i] >= 0 && (hi <= 0 || values[i] < hi)) continue;
    return Error(field,
                 absl::StrCat("[", i, "]: ", values[i],
                              hi > 0 ? absl::StrCat(" is outside [0, ", hi, ")") : std::string(" is negative")));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateExample(const Example& e, const ExampleLimits& limits) {
  const int length = e.input_ids_size();
  if (length == 0) return Error("input_ids", ": is empty");
  if (limits.max_seq_length > 0 && length > limits.max_seq_length) {
    return Error("input_ids",
                 absl::StrCat(": has ", length, " tokens, more than the sequence length ", limits.max_seq_length));
  }
  if (absl::Status s = CheckIds("input_ids", e.input_ids(), limits.vocab_size); !s.ok()) return s;
  if (e.segment_b_start() < 1 || e.segment_b_start() > length) {
    return Error("segment_b_start", absl::StrCat(": ", e.segment_b_start(), " is outside [1, ", length,
                                                 "] (the number of input_ids)"));
  }
  const int predictions = e.masked_positions_size();
  if (e.masked_labels_size() != predictions) {
    return Error("masked_labels", absl::StrCat(": has ", e.masked_labels_size(),
                                               " elements but masked_positions has ", predictions));
  }
  if (limits.max_predictions > 0 && predictions > limits.max_predictions) {
    return Error("masked_positions",
                 absl::StrCat(": has ", predictions, " predictions, more than ", limits.max_predictions));
  }
  for (int i = 0; i < predictions; ++i) {
    const int position = e.masked_positions(i);
    if (position < 0 || position >= length) {
      return Error("masked_positions",
                   absl::StrCat("[", i, "]: ", position, " is outside [0, ", length, ") (the tokens)"));
    }
    if (i > 0 && position <= e.masked_positions(i - 1)) {
      return Error("masked_positions", absl::StrCat("[", i, "]: ", position, " does not follow ",
                                                    e.masked_positions(i - 1), " (must ascend strictly)"));
    }
  }
  if (absl::Status s = CheckIds("masked_labels", e.masked_labels(), limits.vocab_size); !s.ok()) return s;
  if (e.sentence_label() != 0 && e.sentence_label() != 1) {
    return Error("sentence_label", absl::StrCat(": ", e.sentence_label(), " is neither 0 nor 1"));
  }
  return absl::OkStatus();
}

}  // namespace cloze::data
