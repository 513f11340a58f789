#include "trainer/finetune/dev_forward.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cloze::finetune {

absl::StatusOr<DevOutputs> ForwardDev(TrainingBackend& model, const std::vector<ModelInput>& inputs,
                                      const BatchLayout& layout, int32_t pad_id, int batch_size, int outputs,
                                      const std::string& split) {
  DevOutputs out;
  out.logits.resize(outputs);
  double sums[kMaxLossTerms] = {}, counts[kMaxLossTerms] = {};
  const bool per_token = layout.labels != LabelLayout::kPerSequence;
  for (size_t first = 0; first < inputs.size(); first += batch_size) {
    std::vector<const ModelInput*> rows;
    for (size_t i = first; i < std::min(inputs.size(), first + batch_size); ++i) rows.push_back(&inputs[i]);
    absl::StatusOr<Batch> batch = CollateModelInputs(rows, pad_id, layout);
    if (!batch.ok()) return absl::InvalidArgumentError(absl::StrCat(split, " split: ", batch.status().message()));
    absl::StatusOr<Losses> losses = model.Forward(*batch, StepOptions{});
    if (!losses.ok()) return losses.status();
    for (int t = 0; t < kMaxLossTerms; ++t) {
      sums[t] += losses->terms[t].sum;
      counts[t] += static_cast<double>(losses->terms[t].count);
    }
    for (int o = 0; o < outputs; ++o) {
      absl::StatusOr<std::vector<float>> logits = model.Logits(o);
      if (!logits.ok()) return logits.status();
      const size_t row_width = logits->size() / rows.size();
      const size_t token_width = per_token ? row_width / batch->seq_len : 0;
      if (row_width * rows.size() != logits->size() || (per_token && token_width * batch->seq_len != row_width) ||
          row_width == 0) {
        return absl::InvalidArgumentError(absl::StrCat(split, " split: ", logits->size(), " logits of output ", o,
                                                       " for ", rows.size(), " rows of ", batch->seq_len, " tokens"));
      }
      for (size_t r = 0; r < rows.size(); ++r) {
        const auto begin = logits->begin() + r * row_width;
        const size_t kept = per_token ? rows[r]->input_ids.size() * token_width : row_width;
        out.logits[o].emplace_back(begin, begin + kept);
      }
    }
  }
  int terms = 0;
  for (int t = 0; t < kMaxLossTerms; ++t) {
    if (counts[t] > 0) {
      out.loss += sums[t] / counts[t];
      ++terms;
    }
  }
  if (terms > 0) out.loss /= terms;
  return out;
}

std::string JsonNumber(double v) { return std::isfinite(v) ? absl::StrFormat("%.17g", v) : "null"; }

}  // namespace cloze::finetune
