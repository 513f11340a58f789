// The extractive-QA head (SQuAD): one linear H→2 on every token's hidden state
// (`qa_outputs`, as Hugging Face's ...ForQuestionAnswering), giving each token a start and
// an end logit. Batch.labels holds 2B positions: the B start positions, then the B end
// positions (a token index in [0, T), negative to ignore). The loss is
// (cross-entropy of start over the T positions + the same for end) / 2, each the mean over
// counted examples; two terms (start, end). No dropout, as Hugging Face.
#ifndef CLOZE_MODEL_HEADS_SPAN_EXTRACTION_H_
#define CLOZE_MODEL_HEADS_SPAN_EXTRACTION_H_

#include "model/head.h"

namespace cloze {

inline constexpr int kStartTerm = 0;
inline constexpr int kEndTerm = 1;

class SpanExtractionDefinition : public HeadDefinition {
 public:
  explicit SpanExtractionDefinition(const ModelConfig& config);

  HeadSpec spec() const override { return {HeadKind::kSpanExtraction, 2}; }
  void AddParameters(LayoutBuilder& builder) override;
  bool uses_pooled_output() const override { return false; }
  absl::Status ValidateLabels(const Batch& batch) const override;
  PredictionCounts CountPredictions(const Batch& batch) const override;
  std::array<double, kMaxLossTerms> term_weights() const override { return {0.5, 0.5}; }

  const ModelConfig& config() const { return config_; }
  // (2, H), (2): row 0 scores starts, row 1 ends.
  TensorSlot weight, bias;

 private:
  ModelConfig config_;
};

std::unique_ptr<Head> MakeCpuSpanExtractionHead(const ModelConfig& config);

}  // namespace cloze

#endif  // CLOZE_MODEL_HEADS_SPAN_EXTRACTION_H_
