// An ALBERT or BERT model on the CPU ops: the encoder (trainer/encoder.h) and one head
// (trainer/head.h): pretraining (MLM + SOP/NSP, the default), sequence classification or
// regression, token classification, or span extraction.
//
// Parameters and gradients are two flat float buffers with the layout of
// parameter_layout.h: the encoder's tensors, then the head's. Losses are the head's terms
// (trainer/losses.h), each the mean over its counted predictions, as in Hugging Face's
// AlbertFor* / BertFor* models.
//
// Dropout follows the original ALBERT/BERT placement (embeddings, attention
// probabilities, attention output, feed-forward output, classifier input) and is active
// only when StepOptions.training is set; masks come from Philox with
// StepOptions.dropout_seed, so a step is reproducible.
//
// Precision: that of every matrix product, encoder and head (kernels/cpu/bf16_gemm.h: kBf16
// rounds their operands to bf16 where the CPU has BF16 instructions); parameters, gradients
// and all other work stay fp32. Fixed when the model is made.
//
// Not thread-safe: one Model per thread (the ops themselves use OpenMP).
#ifndef CLOZE_MODEL_MODEL_H_
#define CLOZE_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "model/batch.h"
#include "model/encoder.h"
#include "model/head.h"
#include "model/head_spec.h"
#include "model/losses.h"
#include "model/parameter_layout.h"
#include "model/step_options.h"

namespace cloze {

class Model {
 public:
  // The pretraining model. `config` must be valid (ValidateModelConfig). Parameters start
  // at zero.
  explicit Model(const ModelConfig& config);
  // The model with `head` on the encoder; InvalidArgument for an unusable head spec.
  // TokenLayout::kPacked (encoder.h: the encoder skips the pad tokens) is for the heads that
  // read real positions only: sequence classification or regression (the pooled [CLS]) and
  // token classification, which runs a batch padded when it labels a pad position. The span
  // head's softmax runs over every position, pads included, and the pretraining head may
  // gather pad positions, so both refuse it (InvalidArgument).
  static absl::StatusOr<Model> Create(const ModelConfig& config, const HeadSpec& head,
                                      cpu::Precision precision = cpu::Precision::kFp32,
                                      TokenLayout token_layout = TokenLayout::kPadded);
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const ModelConfig& config() const { return config_; }
  cpu::Precision precision() const { return precision_; }
  TokenLayout token_layout() const { return token_layout_; }
  const ParameterLayout& layout() const { return layout_; }
  const HeadDefinition& head() const { return head_->definition(); }
  std::span<float> parameters() { return parameters_; }
  std::span<const float> parameters() const { return parameters_; }
  std::span<float> gradients() { return gradients_; }
  std::span<const float> gradients() const { return gradients_; }

  // Weights and embeddings ~ normal(0, initializer_range) truncated at two standard
  // deviations (as BERT's TensorFlow code); layer-norm scales 1; biases 0. A pure
  // function of (config, head, seed).
  void InitializeParameters(uint64_t seed);
  void ZeroGradients();

  // Validates `batch` (the encoder's inputs and the head's labels) and runs the forward
  // pass, keeping what Backward needs. Errors leave the model unchanged.
  absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options);

  // Adds loss_scale · d(total_loss)/d(parameters) for the last successful Forward into
  // gradients() (use 1/k to average k accumulated micro-batches). FailedPrecondition
  // without a Forward.
  absl::Status Backward(float loss_scale = 1.0f);
  // Adds d(Σ weight_i · Σ term-i losses / normalizer_i)/d(parameters): this batch's share of
  // a step whose loss is the mean over the normalizer's predictions (a data-parallel or
  // accumulated step). FailedPrecondition without a Forward.
  absl::Status Backward(const LossNormalizer& normalizer);

  // The rows each loss term of `batch` counts, for the step's normalizer.
  PredictionCounts CountPredictions(const Batch& batch) const { return head().CountPredictions(batch); }

  // After Forward: the head's logits (Head::logits) and the encoder's hidden states
  // (Encoder::hidden_state: 0 = embeddings, i = layer i).
  std::span<const float> logits(int output = 0) const { return head_->logits(output); }
  std::span<const float> hidden_state(int i) const { return encoder_.hidden_state(i); }

 private:
  Model(const ModelConfig& config, std::unique_ptr<Head> head, ParameterLayout layout, cpu::Precision precision,
        TokenLayout token_layout);
  HeadInputs Inputs() const;
  TokenLayout LayoutFor(const Batch& batch) const;
  absl::Status BackwardScaled(const std::array<float, kMaxLossTerms>& scales);

  ModelConfig config_;
  ParameterLayout layout_;
  cpu::Precision precision_;
  TokenLayout token_layout_;
  std::unique_ptr<Head> head_;
  Encoder encoder_;
  std::vector<float> parameters_;
  std::vector<float> gradients_;

  // Inputs of the last Forward.
  Batch batch_;
  StepOptions options_;
  Losses losses_;  // of the last Forward: Backward(loss_scale) normalises by its counts
  bool has_forward_ = false;
};

}  // namespace cloze

#endif  // CLOZE_MODEL_MODEL_H_
