#include "model/heads/pretraining.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/activations.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/gather.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cpu/matmul.h"
#include "model/model_config.h"

namespace cloze {

PretrainingDefinition::PretrainingDefinition(const ModelConfig& config, const ParameterLayout& encoder_layout)
    : word_embeddings(encoder_layout.word_embeddings), config_(config) {}

void PretrainingDefinition::AddParameters(LayoutBuilder& b) {
  const int64_t v = config_.vocab_size(), e = config_.embedding_size(), h = config_.hidden_size();
  const bool albert = IsAlbert(config_);
  b.AddLinear(albert ? "predictions.dense" : "cls.predictions.transform.dense", e, h, mlm_dense_weight,
              mlm_dense_bias);
  b.AddNorm(albert ? "predictions.LayerNorm" : "cls.predictions.transform.LayerNorm", e, mlm_norm_weight,
            mlm_norm_bias);
  mlm_output_bias = b.Add(albert ? "predictions.bias" : "cls.predictions.bias", {v}, false);
  b.AddLinear(albert ? "sop_classifier.classifier" : "cls.seq_relationship", 2, h, sentence_weight, sentence_bias);
}

absl::Status PretrainingDefinition::ValidateLabels(const Batch& batch) const {
  return ValidateBatch(batch, config_);
}

PredictionCounts PretrainingDefinition::CountPredictions(const Batch& batch) const {
  PredictionCounts counts;
  for (int32_t label : batch.masked_labels) counts.terms[kMlmTerm] += label >= 0;
  for (int32_t label : batch.sentence_labels) counts.terms[kSentenceTerm] += label >= 0;
  return counts;
}

namespace {

using namespace cpu;  // the ops

void Resize(std::vector<float>& v, int64_t n) { v.assign(n, 0.0f); }

class CpuPretrainingHead : public Head {
 public:
  CpuPretrainingHead(const ModelConfig& config, const ParameterLayout& encoder_layout)
      : def_(config, encoder_layout) {}

  const HeadDefinition& definition() const override { return def_; }
  HeadDefinition& definition() override { return def_; }

  Losses Forward(const HeadInputs& in) override {
    const ModelConfig& config = def_.config();
    const Batch& batch = *in.batch;
    const float* w = in.parameters;
    const int64_t b = batch.batch_size, m = static_cast<int64_t>(batch.masked_positions.size());
    const int64_t e = config.embedding_size(), h = config.hidden_size(), v = config.vocab_size();
    ResizeFor(b, m);

    // MLM at the masked positions; the decoder is the word-embedding matrix.
    gather_rows_forward(mlm_gathered_.data(), in.hidden, batch.masked_positions.data(), m, h);
    matmul_forward(mlm_pre_.data(), mlm_gathered_.data(), w + def_.mlm_dense_weight.offset,
                   w + def_.mlm_dense_bias.offset, m, h, e, in.precision);
    activation_forward(ActivationOf(config), mlm_act_.data(), mlm_pre_.data(), m * e);
    layernorm_forward(mlm_norm_.data(), mlm_mean_.data(), mlm_rstd_.data(), mlm_act_.data(),
                      w + def_.mlm_norm_weight.offset, w + def_.mlm_norm_bias.offset, m, e, config.layer_norm_eps());
    matmul_forward(mlm_logits_.data(), mlm_norm_.data(), w + def_.word_embeddings.offset,
                   w + def_.mlm_output_bias.offset, m, e, v, in.precision);
    softmax_cross_entropy_forward(mlm_losses_.data(), mlm_probs_.data(), mlm_logits_.data(),
                                  batch.masked_labels.data(), m, v);

    // Sentence: dropout on the pooled [CLS], then the two-way classifier.
    dropout_forward(pooled_dropped_.data(), in.pooled, b * h, ClassifierDropout(in.options));
    matmul_forward(sentence_logits_.data(), pooled_dropped_.data(), w + def_.sentence_weight.offset,
                   w + def_.sentence_bias.offset, b, h, 2, in.precision);
    softmax_cross_entropy_forward(sentence_losses_.data(), sentence_probs_.data(), sentence_logits_.data(),
                                  batch.sentence_labels.data(), b, 2);

    Losses losses;
    losses.terms[kMlmTerm] = SummarizeTerm(mlm_losses_, RowArgmax(mlm_logits_, v), batch.masked_labels);
    losses.terms[kSentenceTerm] =
        SummarizeTerm(sentence_losses_, RowArgmax(sentence_logits_, 2), batch.sentence_labels);
    losses.total_loss = losses.terms[kMlmTerm].mean + losses.terms[kSentenceTerm].mean;
    counts_ = def_.CountPredictions(batch);
    return losses;
  }

  void Backward(const HeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                const HeadGradients& out) override {
    const ModelConfig& config = def_.config();
    const Batch& batch = *in.batch;
    const float* w = in.parameters;
    float* g = out.parameters;
    const int64_t b = batch.batch_size, m = static_cast<int64_t>(batch.masked_positions.size());
    const int64_t e = config.embedding_size(), h = config.hidden_size(), v = config.vocab_size();
    for (auto* buffer : {&d_mlm_logits_, &d_mlm_norm_, &d_mlm_act_, &d_mlm_pre_, &d_mlm_gathered_,
                         &d_sentence_logits_, &d_pooled_dropped_}) {
      std::fill(buffer->begin(), buffer->end(), 0.0f);
    }

    // Sentence: classifier, dropout, into d(pooled).
    if (counts_.terms[kSentenceTerm] > 0) {
      softmax_cross_entropy_backward(d_sentence_logits_.data(), sentence_probs_.data(),
                                     batch.sentence_labels.data(), b, 2, scales[kSentenceTerm]);
      matmul_backward(d_pooled_dropped_.data(), g + def_.sentence_weight.offset, g + def_.sentence_bias.offset,
                      d_sentence_logits_.data(), pooled_dropped_.data(), w + def_.sentence_weight.offset, b, h, 2,
                      in.precision);
      dropout_backward(out.pooled, d_pooled_dropped_.data(), b * h, ClassifierDropout(in.options));
    }

    // MLM: tied decoder, layer norm, activation, dense, back to the masked rows.
    if (counts_.terms[kMlmTerm] > 0) {
      softmax_cross_entropy_backward(d_mlm_logits_.data(), mlm_probs_.data(), batch.masked_labels.data(), m, v,
                                     scales[kMlmTerm]);
      matmul_backward(d_mlm_norm_.data(), g + def_.word_embeddings.offset, g + def_.mlm_output_bias.offset,
                      d_mlm_logits_.data(), mlm_norm_.data(), w + def_.word_embeddings.offset, m, e, v, in.precision);
      layernorm_backward(d_mlm_act_.data(), g + def_.mlm_norm_weight.offset, g + def_.mlm_norm_bias.offset,
                         d_mlm_norm_.data(), mlm_act_.data(), w + def_.mlm_norm_weight.offset, mlm_mean_.data(),
                         mlm_rstd_.data(), m, e);
      activation_backward(ActivationOf(config), d_mlm_pre_.data(), mlm_pre_.data(), d_mlm_act_.data(), m * e);
      matmul_backward(d_mlm_gathered_.data(), g + def_.mlm_dense_weight.offset, g + def_.mlm_dense_bias.offset,
                      d_mlm_pre_.data(), mlm_gathered_.data(), w + def_.mlm_dense_weight.offset, m, h, e, in.precision);
      gather_rows_backward(out.hidden, d_mlm_gathered_.data(), batch.masked_positions.data(), m, h);
    }
  }

  std::span<const float> logits(int output) const override {
    return output == 0 ? std::span<const float>(mlm_logits_) : std::span<const float>(sentence_logits_);
  }

 private:
  DropoutSpec ClassifierDropout(const StepOptions& options) const {
    const ModelConfig& config = def_.config();
    return DropoutAt(options, config.classifier_dropout_prob(), HeadStream(config.num_hidden_layers()),
                     config.hidden_size());
  }

  void ResizeFor(int64_t b, int64_t m) {
    if (b == b_ && m == m_) return;
    b_ = b;
    m_ = m;
    const ModelConfig& config = def_.config();
    const int64_t e = config.embedding_size(), h = config.hidden_size(), v = config.vocab_size();
    for (auto* buffer : {&mlm_gathered_, &d_mlm_gathered_}) Resize(*buffer, m * h);
    for (auto* buffer : {&mlm_pre_, &mlm_act_, &mlm_norm_, &d_mlm_norm_, &d_mlm_act_, &d_mlm_pre_}) {
      Resize(*buffer, m * e);
    }
    for (auto* buffer : {&mlm_mean_, &mlm_rstd_, &mlm_losses_}) Resize(*buffer, m);
    for (auto* buffer : {&mlm_logits_, &mlm_probs_, &d_mlm_logits_}) Resize(*buffer, m * v);
    for (auto* buffer : {&pooled_dropped_, &d_pooled_dropped_}) Resize(*buffer, b * h);
    for (auto* buffer : {&sentence_logits_, &sentence_probs_, &d_sentence_logits_}) Resize(*buffer, b * 2);
    Resize(sentence_losses_, b);
  }

  PretrainingDefinition def_;
  int64_t b_ = -1, m_ = -1;
  PredictionCounts counts_;  // of the last Forward
  std::vector<float> mlm_gathered_, mlm_pre_, mlm_act_, mlm_mean_, mlm_rstd_, mlm_norm_;  // (M, H|E), (M)
  std::vector<float> mlm_logits_, mlm_probs_, mlm_losses_;                                // (M, V), (M)
  std::vector<float> pooled_dropped_, sentence_logits_, sentence_probs_, sentence_losses_;  // (B, H|2), (B)
  std::vector<float> d_mlm_logits_, d_mlm_norm_, d_mlm_act_, d_mlm_pre_, d_mlm_gathered_;
  std::vector<float> d_sentence_logits_, d_pooled_dropped_;
};

}  // namespace

std::unique_ptr<Head> MakeCpuPretrainingHead(const ModelConfig& config, const ParameterLayout& encoder_layout) {
  return std::make_unique<CpuPretrainingHead>(config, encoder_layout);
}

}  // namespace cloze
