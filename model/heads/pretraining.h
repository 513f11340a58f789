// The pretraining head: masked-LM at the batch's masked positions (dense, activation,
// layer norm, decoder tied to the word embeddings, bias) and the sentence head (SOP for
// ALBERT, NSP for BERT: dropout on the pooled [CLS], then a two-way classifier). The loss
// is mlm + sentence, each the mean over its counted predictions, as Hugging Face's
// AlbertForPreTraining / BertForPreTraining.
#ifndef CLOZE_MODEL_HEADS_PRETRAINING_H_
#define CLOZE_MODEL_HEADS_PRETRAINING_H_

#include "model/head.h"

namespace cloze {

class PretrainingDefinition : public HeadDefinition {
 public:
  PretrainingDefinition(const ModelConfig& config, const ParameterLayout& encoder_layout);

  HeadSpec spec() const override { return {HeadKind::kPretraining, 2}; }
  void AddParameters(LayoutBuilder& builder) override;
  bool uses_pooled_output() const override { return true; }
  absl::Status ValidateLabels(const Batch& batch) const override;
  PredictionCounts CountPredictions(const Batch& batch) const override;
  std::array<double, kMaxLossTerms> term_weights() const override { return {1.0, 1.0}; }

  const ModelConfig& config() const { return config_; }
  TensorSlot word_embeddings;                   // (V, E), the encoder's: the tied decoder
  TensorSlot mlm_dense_weight, mlm_dense_bias;  // (E, H), (E)
  TensorSlot mlm_norm_weight, mlm_norm_bias;    // (E)
  TensorSlot mlm_output_bias;                   // (V)
  TensorSlot sentence_weight, sentence_bias;    // (2, H), (2)

 private:
  ModelConfig config_;
};

std::unique_ptr<Head> MakeCpuPretrainingHead(const ModelConfig& config, const ParameterLayout& encoder_layout);

}  // namespace cloze

#endif  // CLOZE_MODEL_HEADS_PRETRAINING_H_
