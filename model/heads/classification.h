// The two classification heads, which differ only in their rows:
//   sequence classification  the pooled [CLS] of each example → dropout → linear
//                            (`classifier`, as Hugging Face's ...ForSequenceClassification);
//                            cross-entropy over Batch.labels (B), or with one output a
//                            regression: MSE against Batch.targets (B), HF's problem_type
//                            "regression";
//   token classification     every token's hidden state → dropout → linear (`classifier`, as
//                            ...ForTokenClassification); cross-entropy over Batch.labels
//                            (B·T), negative labels (padding, a word's later sub-tokens)
//                            ignored.
// One loss term; dropout is the config's classifier_dropout_prob.
#ifndef CLOZE_MODEL_HEADS_CLASSIFICATION_H_
#define CLOZE_MODEL_HEADS_CLASSIFICATION_H_

#include "model/head.h"

namespace cloze {

class ClassificationDefinition : public HeadDefinition {
 public:
  // spec.kind is kSequenceClassification or kTokenClassification; spec.num_labels ≥ 1
  // (1 only for sequence classification: regression).
  ClassificationDefinition(const HeadSpec& spec, const ModelConfig& config);

  HeadSpec spec() const override { return spec_; }
  void AddParameters(LayoutBuilder& builder) override;
  bool uses_pooled_output() const override { return per_sequence(); }
  absl::Status ValidateLabels(const Batch& batch) const override;
  PredictionCounts CountPredictions(const Batch& batch) const override;
  std::array<double, kMaxLossTerms> term_weights() const override { return {1.0, 0.0}; }

  bool per_sequence() const { return spec_.kind == HeadKind::kSequenceClassification; }
  // The rows classified: B, or B·T per token.
  int64_t rows(const Batch& batch) const;
  const ModelConfig& config() const { return config_; }
  TensorSlot weight, bias;  // (L, H), (L)

 private:
  HeadSpec spec_;
  ModelConfig config_;
};

std::unique_ptr<Head> MakeCpuClassificationHead(const HeadSpec& spec, const ModelConfig& config);

}  // namespace cloze

#endif  // CLOZE_MODEL_HEADS_CLASSIFICATION_H_
