// Which head sits on the encoder: the one choice that makes a pretraining model, a
// classifier, a tagger or a span extractor out of the same encoder parameters.
#ifndef CLOZE_MODEL_HEAD_SPEC_H_
#define CLOZE_MODEL_HEAD_SPEC_H_

#include <string>

#include "absl/status/statusor.h"

namespace cloze {

enum class HeadKind {
  kPretraining,             // MLM at masked positions + SOP (ALBERT) or NSP (BERT) on [CLS]
  kSequenceClassification,  // pooled [CLS] → dropout → linear; one output = regression (MSE)
  kTokenClassification,     // every token → dropout → linear; cross-entropy on labelled tokens
  kSpanExtraction,          // every token → linear H→2: start and end logits
};

struct HeadSpec {
  HeadKind kind = HeadKind::kPretraining;
  // Outputs of the classification heads: classes, or 1 for regression. Ignored by the
  // pretraining (2 sentence classes) and span (2 logits per token) heads.
  int num_labels = 2;

  bool is_regression() const { return kind == HeadKind::kSequenceClassification && num_labels == 1; }
};

// "pretraining", "sequence_classification", "token_classification", "span_extraction".
const char* HeadKindName(HeadKind kind);
// The inverse of HeadKindName; InvalidArgument naming the unknown name and the known ones.
absl::StatusOr<HeadKind> ParseHeadKind(const std::string& name);

}  // namespace cloze

#endif  // CLOZE_MODEL_HEAD_SPEC_H_
