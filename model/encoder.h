// The ALBERT/BERT encoder on the CPU ops: embeddings (with ALBERT's E→H projection), the
// transformer layers (ALBERT's shared groups), and the pooler on [CLS]. Heads
// (trainer/head.h) sit on its outputs and never reach inside it.
//
// Forward keeps every layer's output, so hidden_state(i) is available for probing at no
// cost; Backward takes the gradients heads added into d_hidden() and d_pooled() and adds the
// encoder's parameter gradients. Dropout follows the original placement (embeddings,
// attention probabilities, attention output, feed-forward output), keyed by
// trainer/step_options.h's streams.
//
// `precision` is that of the matrix products (dense layers and attention; kernels/cpu/bf16_gemm.h);
// everything else, the activations kept for backward included, is fp32. In bf16 each weight
// is converted once per Forward (kernels/cpu/bf16_weights.h) and reused by every layer that
// shares it and by the Backward that follows.
//
// Not thread-safe; Backward must follow a Forward on the same batch shape.
#ifndef CLOZE_MODEL_ENCODER_H_
#define CLOZE_MODEL_ENCODER_H_

#include <cstdint>
#include <memory>
#include <span>

#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cpu/bf16_weights.h"
#include "proto/model_config.pb.h"
#include "model/batch.h"
#include "model/parameter_layout.h"
#include "model/step_options.h"

namespace cloze {

class Encoder {
 public:
  // `config` valid; `layout` holds the encoder's slots (BuildEncoderLayout or a full layout).
  Encoder(const ModelConfig& config, const ParameterLayout& layout, cpu::Precision precision = cpu::Precision::kFp32);
  ~Encoder();
  Encoder(Encoder&&) noexcept;
  Encoder& operator=(Encoder&&) noexcept;

  // Runs on the inputs of `batch` (validated by the caller: ValidateInputs). With
  // `pooled`, also the pooler: tanh(W · hidden[CLS] + b) for each example.
  void Forward(const float* parameters, const Batch& batch, const StepOptions& options, bool pooled);

  int batch_size() const { return batch_size_; }
  int seq_len() const { return seq_len_; }
  // (B·T, H): the last layer's output.
  const float* hidden() const;
  // (B, H): the pooled [CLS] of the last Forward that asked for it.
  const float* pooled() const;
  // (B·T, H): 0 = the embeddings as the first layer sees them (after ALBERT's projection,
  // as Hugging Face's hidden_states[0]), i = layer i's output (1 ≤ i ≤ num_hidden_layers).
  std::span<const float> hidden_state(int i) const;

  // Where heads add d(loss)/d(hidden) and d(loss)/d(pooled); zeroed by ZeroOutputGradients.
  float* d_hidden();
  float* d_pooled();
  void ZeroOutputGradients();
  // Adds d(loss)/d(parameters) into `gradients` from d_hidden() and d_pooled() (the
  // pooler's backward runs only when the last Forward pooled). `batch` and `parameters`
  // are the last Forward's.
  void Backward(const float* parameters, float* gradients, const Batch& batch);

 private:
  struct Activations;
  struct LayerActivations;

  void Resize(int batch_size, int seq_len);
  void ForwardLayer(const float* w, const Batch& batch, int layer, const float* input, LayerActivations& out);
  void BackwardLayer(const float* w, float* g, int layer, const float* input, const LayerActivations& acts,
                     float* dinput, float* doutput);

  ModelConfig config_;
  ParameterLayout layout_;
  cpu::Precision precision_;
  cpu::Bf16Weights packed_weights_;  // bf16 copies of the weights of the last Forward
  int batch_size_ = 0, seq_len_ = 0;
  bool pooled_ = false;
  StepOptions options_;
  std::unique_ptr<Activations> acts_;
};

}  // namespace cloze

#endif  // CLOZE_MODEL_ENCODER_H_
