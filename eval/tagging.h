// Token-level tagging accuracy (POS tagging on UD): the fraction of labelled positions whose
// predicted tag equals the label. Positions with a negative label (-100 for sub-word
// continuations, padding, special tokens) are ignored, so that each word counts once, on its
// first sub-word, as in the usual token-classification recipes. This is plain per-word
// accuracy, not seqeval's entity-level scores.
#ifndef CLOZE_EVAL_TAGGING_H_
#define CLOZE_EVAL_TAGGING_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace cloze::eval {

// labels and predictions are flat over the batch (one entry per position), same length.
// InvalidArgument when the lengths differ or no position has a label >= 0.
absl::StatusOr<double> TokenAccuracy(absl::Span<const int> labels,
                                     absl::Span<const int> predictions);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_TAGGING_H_
