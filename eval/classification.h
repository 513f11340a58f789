// Classification metrics for GLUE-style tasks, defined as scikit-learn computes them (the
// reference the GLUE numbers in papers come from: HF's glue_compute_metrics calls sklearn).
// Labels and predictions are class ids, one per example, in the same order; any int is a
// class. Every function returns InvalidArgument when the two differ in length or are empty.
// Results are fractions (accuracy 0.8, not 80).
#ifndef CLOZE_EVAL_CLASSIFICATION_H_
#define CLOZE_EVAL_CLASSIFICATION_H_

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace cloze::eval {

// The fraction of examples whose prediction equals the label (sklearn accuracy_score).
absl::StatusOr<double> Accuracy(absl::Span<const int> labels, absl::Span<const int> predictions);

// Matthews correlation coefficient (CoLA), sklearn's matthews_corrcoef: for two classes the
// usual (TP·TN − FP·FN)/sqrt(...), for more classes Gorodkin's R_K generalisation over the
// confusion matrix. 0 when the denominator is 0 (e.g. every prediction, or every label, is
// the same class), as sklearn returns.
absl::StatusOr<double> MatthewsCorrelation(absl::Span<const int> labels,
                                           absl::Span<const int> predictions);

// F1 of one class (MRPC and QQP: positive_label 1), sklearn's
// f1_score(average="binary", pos_label=..., zero_division=0): 2·TP / (2·TP + FP + FN), and 0
// when that denominator is 0 (the class neither predicted nor present). Predicting no positive
// at all therefore scores 0 when positives exist.
absl::StatusOr<double> BinaryF1(absl::Span<const int> labels, absl::Span<const int> predictions,
                                int positive_label = 1);

// Unweighted mean of the per-class F1 over every class that occurs in labels or predictions
// (sklearn f1_score(average="macro", zero_division=0)).
absl::StatusOr<double> MacroF1(absl::Span<const int> labels, absl::Span<const int> predictions);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_CLASSIFICATION_H_
