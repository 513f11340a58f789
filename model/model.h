// ALBERT and BERT encoders with their pretraining heads, on the CPU ops.
//
// Parameters and gradients are two flat float buffers with the layout of
// parameter_layout.h. Forward computes the MLM head only at the batch's masked
// positions and the sentence head (SOP for ALBERT, NSP for BERT) on [CLS]; the loss is
// mlm_loss + sentence_loss, each the mean over counted predictions, as in Hugging Face's
// AlbertForPreTraining / BertForPreTraining.
//
// Dropout follows the original ALBERT/BERT placement (embeddings, attention
// probabilities, attention output, feed-forward output, classifier input) and is active
// only when StepOptions.training is set; masks come from Philox with
// StepOptions.dropout_seed, so a step is reproducible.
//
// Not thread-safe: one Model per thread (the ops themselves use OpenMP).
#ifndef CLOZE_MODEL_MODEL_H_
#define CLOZE_MODEL_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "kernels/cpu/dropout.h"
#include "proto/model_config.pb.h"
#include "model/batch.h"
#include "model/parameter_layout.h"

namespace cloze {

struct StepOptions {
  bool training = false;      // dropout on
  uint64_t dropout_seed = 0;  // distinct per step
  // Index of the batch's first example among the step's examples (all micro-batches, all
  // workers). Dropout masks are keyed by it, so a step draws the same masks however its
  // examples are split over micro-batches and workers.
  int64_t first_example = 0;
};

// What a step's loss is normalised by: its counted predictions over every micro-batch and
// every worker (CountPredictions of each batch, summed). The step's loss is then the mean
// over all its predictions, and its gradient the same however the examples are split.
struct LossNormalizer {
  int64_t mlm_predictions = 0;
  int64_t sentence_predictions = 0;
};

struct Losses {
  double mlm_loss = 0;       // mean over counted masked positions (0 if none)
  double sentence_loss = 0;  // mean over counted sentence labels (0 if none)
  double total_loss = 0;     // mlm_loss + sentence_loss
  double mlm_loss_sum = 0, sentence_loss_sum = 0;  // the sums behind the means
  int64_t mlm_count = 0, mlm_correct = 0;            // argmax == label
  int64_t sentence_count = 0, sentence_correct = 0;
};

class Model {
 public:
  // `config` must be valid (ValidateModelConfig). Parameters start at zero.
  explicit Model(const ModelConfig& config);
  ~Model();
  Model(Model&&) noexcept;
  Model& operator=(Model&&) noexcept;

  const ModelConfig& config() const { return config_; }
  const ParameterLayout& layout() const { return layout_; }
  std::span<float> parameters() { return parameters_; }
  std::span<const float> parameters() const { return parameters_; }
  std::span<float> gradients() { return gradients_; }
  std::span<const float> gradients() const { return gradients_; }

  // Weights and embeddings ~ normal(0, initializer_range) truncated at two standard
  // deviations (as BERT's TensorFlow code); layer-norm scales 1; biases 0. A pure
  // function of (config, seed).
  void InitializeParameters(uint64_t seed);
  void ZeroGradients();

  // Validates `batch` (see ValidateBatch) and runs the forward pass, keeping what
  // Backward needs. Errors leave the model unchanged.
  absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options);

  // Adds loss_scale · d(total_loss)/d(parameters) for the last successful Forward into
  // gradients() (use 1/k to average k accumulated micro-batches). Must follow Forward.
  void Backward(float loss_scale = 1.0f);
  // Adds d(Σ losses / normalizer)/d(parameters): this batch's share of a step whose loss is
  // the mean over the normalizer's predictions (a data-parallel or accumulated step).
  void Backward(const LossNormalizer& normalizer);

  // After Forward: MLM logits at the masked positions (M, V), sentence logits (B, 2).
  std::span<const float> mlm_logits() const;
  std::span<const float> sentence_logits() const;

 private:
  struct Activations;
  struct LayerActivations;

  void ResizeActivations(int batch_size, int seq_len, int predictions);
  void BackwardScaled(float mlm_scale, float sentence_scale);
  cpu::DropoutSpec DropoutAt(float p, uint64_t stream, int64_t elements_per_example) const;
  void ForwardLayer(int layer, const float* input, LayerActivations& out);
  void BackwardLayer(int layer, const float* input, const LayerActivations& acts, float* dinput,
                     float* doutput);

  ModelConfig config_;
  ParameterLayout layout_;
  std::vector<float> parameters_;
  std::vector<float> gradients_;

  // Shape and inputs of the last Forward.
  int batch_size_ = 0, seq_len_ = 0, predictions_ = 0;
  Batch batch_;
  StepOptions options_;
  Losses losses_;  // of the last Forward: Backward normalises by its counts
  bool has_forward_ = false;
  std::unique_ptr<Activations> acts_;
};

}  // namespace cloze

#endif  // CLOZE_MODEL_MODEL_H_
