#include "trainer/model_input.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cloze {
namespace {

ModelInput Tokens(int64_t example_index, const std::vector<int32_t>& input_ids,
                  const std::vector<int32_t>& token_type_ids, const std::vector<int32_t>& attention_mask) {
  ModelInput input;
  input.example_index = example_index;
  input.input_ids = input_ids;
  input.token_type_ids = token_type_ids;
  input.attention_mask = attention_mask;
  return input;
}

absl::Status LabelError(const ModelInput& input, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("feature of example ", input.example_index, ": ", message));
}

}  // namespace

ModelInput ToModelInput(const tasks::SequenceFeature& f) {
  ModelInput input = Tokens(f.example_index, f.input_ids, f.token_type_ids, f.attention_mask);
  if (f.label.has_value()) input.labels = {*f.label};
  input.target = f.score;
  return input;
}

ModelInput ToModelInput(const tasks::TaggingFeature& f) {
  ModelInput input = Tokens(f.example_index, f.input_ids, f.token_type_ids, f.attention_mask);
  input.labels = f.labels;
  return input;
}

ModelInput ToModelInput(const tasks::SquadFeature& f) {
  ModelInput input = Tokens(f.example_index, f.input_ids, f.token_type_ids, f.attention_mask);
  input.labels = {f.start_position, f.end_position};
  return input;
}

absl::Status CheckModelInput(const ModelInput& input, const BatchLayout& layout) {
  const size_t n = input.input_ids.size();
  if (n == 0 || input.token_type_ids.size() != n || input.attention_mask.size() != n) {
    return LabelError(input, absl::StrCat(n, " input ids, ", input.token_type_ids.size(), " token type ids and ",
                                          input.attention_mask.size(), " mask values"));
  }
  switch (layout.labels) {
    case LabelLayout::kPerSequence:
      if (layout.regression ? !input.target.has_value() : input.labels.size() != 1) {
        return LabelError(input, absl::StrCat("no ", layout.regression ? "score" : "label", " (an unlabelled split?)"));
      }
      return absl::OkStatus();
    case LabelLayout::kPerToken:
      if (input.labels.size() != n) {
        return LabelError(input, absl::StrCat(input.labels.size(), " token labels for ", n, " tokens"));
      }
      return absl::OkStatus();
    case LabelLayout::kSpan:
      if (input.labels.size() != 2) return LabelError(input, "no answer span (start, end)");
      if (input.labels[0] >= static_cast<int64_t>(n) || input.labels[1] >= static_cast<int64_t>(n)) {
        return LabelError(input, absl::StrCat("answer span ", input.labels[0], "..", input.labels[1], " outside its ",
                                              n, " tokens"));
      }
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::StatusOr<Batch> CollateModelInputs(std::span<const ModelInput* const> inputs, int32_t pad_id,
                                         const BatchLayout& layout, size_t pad_to) {
  if (inputs.empty()) return absl::InvalidArgumentError("CollateModelInputs: no inputs");
  size_t longest = pad_to;
  for (const ModelInput* input : inputs) {
    if (absl::Status s = CheckModelInput(*input, layout); !s.ok()) return s;
    longest = std::max(longest, input->input_ids.size());
  }
  Batch batch;
  const size_t rows = inputs.size();
  batch.batch_size = static_cast<int>(rows);
  batch.seq_len = static_cast<int>(longest);
  const size_t cells = rows * longest;
  batch.input_ids.assign(cells, pad_id);
  batch.token_type_ids.assign(cells, 0);
  batch.attention_mask.assign(cells, 0);
  if (layout.labels == LabelLayout::kPerToken) batch.labels.assign(cells, tasks::kIgnoredLabel);
  if (layout.labels == LabelLayout::kSpan) batch.labels.assign(2 * rows, 0);
  for (size_t b = 0; b < rows; ++b) {
    const ModelInput& x = *inputs[b];
    std::copy(x.input_ids.begin(), x.input_ids.end(), batch.input_ids.begin() + b * longest);
    std::copy(x.token_type_ids.begin(), x.token_type_ids.end(), batch.token_type_ids.begin() + b * longest);
    std::copy(x.attention_mask.begin(), x.attention_mask.end(), batch.attention_mask.begin() + b * longest);
    switch (layout.labels) {
      case LabelLayout::kPerSequence:
        if (layout.regression) {
          batch.targets.push_back(*x.target);
        } else {
          batch.labels.push_back(x.labels[0]);
        }
        break;
      case LabelLayout::kPerToken:
        std::copy(x.labels.begin(), x.labels.end(), batch.labels.begin() + b * longest);
        break;
      case LabelLayout::kSpan:
        batch.labels[b] = x.labels[0];
        batch.labels[rows + b] = x.labels[1];
        break;
    }
  }
  return batch;
}

}  // namespace cloze
