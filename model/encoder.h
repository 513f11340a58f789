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
// Padding: a batch's examples are padded to T tokens. TokenLayout::kPacked runs the layers on
// the real tokens only (see below); outputs are laid out as (B·T, H) either way.
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

// How Forward lays out a batch's tokens for the layers.
//   kPadded: every position, B·T rows; attention masks the padded keys.
//   kPacked: the real tokens only, back to back (N' = Σ L_b rows: embeddings, every dense
//     layer, layer norms, activations, dropout, residuals), attention on each example's own
//     length (AttentionShape::row_begin); then the rows are scattered into the (B·T, H)
//     layout, zeros at the pads. Real positions get the padded layout's values: dropout
//     draws each token's mask by its padded position, and only the order of some sums (the
//     products, the layer-norm and embedding gradients) differs, so fp32 agrees to rounding,
//     not bit for bit. Pad positions differ: kPadded computes them (pad queries attend to the
//     real keys), kPacked leaves zeros; so it is for callers whose heads read real positions
//     only (a [CLS] pooler, token labels only at real tokens), which is why it is asked for
//     and not automatic. A batch runs padded all the same when it has no padding or when a
//     row of its attention mask is not L_b ≥ 1 ones followed by zeros.
enum class TokenLayout { kPadded, kPacked };

class Encoder {
 public:
  // `config` valid; `layout` holds the encoder's slots (BuildEncoderLayout or a full layout).
  Encoder(const ModelConfig& config, const ParameterLayout& layout, cpu::Precision precision = cpu::Precision::kFp32);
  ~Encoder();
  Encoder(Encoder&&) noexcept;
  Encoder& operator=(Encoder&&) noexcept;

  // Runs on the inputs of `batch` (validated by the caller: ValidateInputs). With
  // `pooled`, also the pooler: tanh(W · hidden[CLS] + b) for each example. `layout` as
  // above (kPacked may still run padded).
  void Forward(const float* parameters, const Batch& batch, const StepOptions& options, bool pooled,
               TokenLayout layout = TokenLayout::kPadded);

  int batch_size() const { return batch_size_; }
  int seq_len() const { return seq_len_; }
  // Whether the last Forward ran packed, and on how many rows (B·T padded; packed, the real
  // tokens rounded up: see encoder.cc's PackedRowCount).
  bool packed() const { return packed_; }
  int64_t rows() const { return rows_; }
  // (B·T, H): the last layer's output.
  const float* hidden() const;
  // (B, H): the pooled [CLS] of the last Forward that asked for it.
  const float* pooled() const;
  // (B·T, H): 0 = the embeddings as the first layer sees them (after ALBERT's projection,
  // as Hugging Face's hidden_states[0]), i = layer i's output (1 ≤ i ≤ num_hidden_layers).
  // After a packed Forward, scattered into that layout at the first call for i (so the span
  // stays valid until the next Forward).
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
  void LayOutRows(const Batch& batch, TokenLayout layout);
  template <typename Op>
  void ForEachRun(const cpu::DropoutSpec& spec, int64_t elements_per_row, Op op) const;
  void EmbeddingForward(const float* w, const Batch& batch);
  void EmbeddingBackward(const float* w, float* g, const Batch& batch);
  void ScatterState(int i) const;
  void ForwardLayer(const float* w, const Batch& batch, int layer, const float* input, LayerActivations& out);
  void BackwardLayer(const float* w, float* g, int layer, const float* input, const LayerActivations& acts,
                     float* dinput, float* doutput);

  ModelConfig config_;
  ParameterLayout layout_;
  cpu::Precision precision_;
  cpu::Bf16Weights packed_weights_;  // bf16 copies of the weights of the last Forward
  int batch_size_ = 0, seq_len_ = 0;
  bool packed_ = false;
  int64_t rows_ = 0;       // rows the layers run on: B·T, or packed the real ones and spares
  int64_t real_rows_ = 0;  // packed: N', the real tokens (rows [N', rows_) are spare)
  bool pooled_ = false;
  StepOptions options_;
  std::unique_ptr<Activations> acts_;
};

}  // namespace cloze

#endif  // CLOZE_MODEL_ENCODER_H_
