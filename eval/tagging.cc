#include "eval/tagging.h"

#include "absl/strings/str_cat.h"

namespace cloze::eval {

absl::StatusOr<double> TokenAccuracy(absl::Span<const int> labels,
                                     absl::Span<const int> predictions) {
  if (labels.size() != predictions.size()) {
    return absl::InvalidArgumentError(absl::StrCat("token accuracy: ", labels.size(),
                                                   " labels but ", predictions.size(),
                                                   " predictions"));
  }
  int64_t words = 0, correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0) continue;
    ++words;
    correct += labels[i] == predictions[i];
  }
  if (words == 0) {
    return absl::InvalidArgumentError("token accuracy: no position has a label (all are < 0)");
  }
  return static_cast<double>(correct) / words;
}

}  // namespace cloze::eval
