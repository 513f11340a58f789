#include "model/model.h"


#include <algorithm>
#include <cmath>
#include <memory>

#include "kernels/cpu/activations.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/gather.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/residual.h"
#include "model/head_summary.h"
#include "model/initialize.h"
#include "model/model_config.h"

namespace cloze {

using namespace cpu;  // the ops

// What one transformer layer keeps from forward for backward. N = B·T tokens.
struct Model::LayerActivations {
  std::vector<float> qkv;             // (N, 3H)
  std::vector<float> probs;           // (B, NH, T, T)
  std::vector<float> context;         // (N, H)
  std::vector<float> attention_sum;   // (N, H) input + dropout(attention output), pre-norm
  std::vector<float> attention_mean, attention_rstd;  // (N)
  std::vector<float> attention_out;   // (N, H) after the norm
  std::vector<float> ffn_pre;         // (N, I) before the activation
  std::vector<float> ffn_act;         // (N, I)
  std::vector<float> ffn_sum;         // (N, H) attention_out + dropout(ffn output), pre-norm
  std::vector<float> ffn_mean, ffn_rstd;  // (N)
  std::vector<float> output;          // (N, H) the layer's output
};

struct Model::Activations {
  // Embeddings (N, E) and the ALBERT projection (N, H).
  std::vector<float> embedding_sum, embedding_mean, embedding_rstd, embedding_norm, embedding_out;
  std::vector<float> projection;
  std::vector<LayerActivations> layers;
  // MLM head on M masked positions.
  std::vector<float> mlm_gathered;  // (M, H)
  std::vector<float> mlm_pre, mlm_act, mlm_mean, mlm_rstd, mlm_norm;  // (M, E), (M)
  std::vector<float> mlm_logits, mlm_probs, mlm_losses;  // (M, V), (M, V), (M)
  // Sentence head on [CLS].
  std::vector<int32_t> cls_rows;    // (B) flat index of each [CLS]
  std::vector<float> cls_hidden, pooled_pre, pooled, pooled_dropped;  // (B, H)
  std::vector<float> sentence_logits, sentence_probs, sentence_losses;  // (B, 2), (B, 2), (B)

  // Gradient scratch for one layer at a time (backward walks layers in reverse).
  std::vector<float> d_output, d_input;                // (N, H)
  std::vector<float> d_ffn_sum, d_ffn_dense;           // (N, H)
  std::vector<float> d_ffn_act, d_ffn_pre;             // (N, I)
  std::vector<float> d_attention_out, d_attention_sum, d_attention_dense, d_context;  // (N, H)
  std::vector<float> d_qkv;                            // (N, 3H)
  // Gradient scratch for the heads and the embeddings.
  std::vector<float> d_mlm_logits;                                    // (M, V)
  std::vector<float> d_mlm_norm, d_mlm_act, d_mlm_pre;                // (M, E)
  std::vector<float> d_mlm_gathered;                                  // (M, H)
  std::vector<float> d_sentence_logits;                               // (B, 2)
  std::vector<float> d_pooled_dropped, d_pooled, d_pooled_pre, d_cls;  // (B, H)
  std::vector<float> d_embedding_out, d_embedding_norm, d_embedding_sum;  // (N, E)
};

namespace {

void Resize(std::vector<float>& v, int64_t n) { v.assign(n, 0.0f); }
void Zero(std::vector<float>& v) { std::fill(v.begin(), v.end(), 0.0f); }

// Dropout stream numbers: one per site, so every mask in a step is distinct.
constexpr uint64_t kEmbeddingStream = 0;
uint64_t AttentionProbsStream(int layer) { return 1 + 3 * static_cast<uint64_t>(layer); }
uint64_t AttentionOutputStream(int layer) { return 2 + 3 * static_cast<uint64_t>(layer); }
uint64_t FfnOutputStream(int layer) { return 3 + 3 * static_cast<uint64_t>(layer); }
uint64_t ClassifierStream(int layers) { return 1 + 3 * static_cast<uint64_t>(layers); }

// Mean loss over counted rows, and how many rows' argmax equals the label.
}  // namespace

Model::Model(const ModelConfig& config)
    : config_(config),
      layout_(BuildParameterLayout(config)),
      parameters_(layout_.total_size, 0.0f),
      gradients_(layout_.total_size, 0.0f),
      acts_(std::make_unique<Activations>()) {}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

void Model::InitializeParameters(uint64_t seed) { InitializeParameterBuffer(layout_, config_, seed, parameters_); }

void Model::ZeroGradients() { Zero(gradients_); }

void Model::ResizeActivations(int batch_size, int seq_len, int predictions) {
  if (batch_size == batch_size_ && seq_len == seq_len_ && predictions == predictions_) return;
  batch_size_ = batch_size;
  seq_len_ = seq_len;
  predictions_ = predictions;
  const int64_t n = int64_t{batch_size} * seq_len, m = predictions, b = batch_size;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size(), v = config_.vocab_size();
  const int64_t heads = config_.num_attention_heads();
  Activations& a = *acts_;
  for (auto* buffer : {&a.embedding_sum, &a.embedding_norm, &a.embedding_out}) Resize(*buffer, n * e);
  Resize(a.embedding_mean, n);
  Resize(a.embedding_rstd, n);
  Resize(a.projection, IsAlbert(config_) ? n * h : 0);
  a.layers.resize(config_.num_hidden_layers());
  for (LayerActivations& l : a.layers) {
    Resize(l.qkv, n * 3 * h);
    Resize(l.probs, b * heads * seq_len * seq_len);
    for (auto* buffer : {&l.context, &l.attention_sum, &l.attention_out, &l.ffn_sum, &l.output}) {
      Resize(*buffer, n * h);
    }
    for (auto* buffer : {&l.attention_mean, &l.attention_rstd, &l.ffn_mean, &l.ffn_rstd}) Resize(*buffer, n);
    Resize(l.ffn_pre, n * inner);
    Resize(l.ffn_act, n * inner);
  }
  Resize(a.mlm_gathered, m * h);
  for (auto* buffer : {&a.mlm_pre, &a.mlm_act, &a.mlm_norm}) Resize(*buffer, m * e);
  for (auto* buffer : {&a.mlm_mean, &a.mlm_rstd, &a.mlm_losses}) Resize(*buffer, m);
  Resize(a.mlm_logits, m * v);
  Resize(a.mlm_probs, m * v);
  a.cls_rows.resize(b);
  for (int i = 0; i < batch_size; ++i) a.cls_rows[i] = i * seq_len;
  for (auto* buffer : {&a.cls_hidden, &a.pooled_pre, &a.pooled, &a.pooled_dropped}) Resize(*buffer, b * h);
  Resize(a.sentence_logits, b * 2);
  Resize(a.sentence_probs, b * 2);
  Resize(a.sentence_losses, b);
  for (auto* buffer : {&a.d_output, &a.d_input, &a.d_ffn_sum, &a.d_ffn_dense, &a.d_attention_out,
                       &a.d_attention_sum, &a.d_attention_dense, &a.d_context}) {
    Resize(*buffer, n * h);
  }
  Resize(a.d_ffn_act, n * inner);
  Resize(a.d_ffn_pre, n * inner);
  Resize(a.d_qkv, n * 3 * h);
  Resize(a.d_mlm_logits, m * v);
  for (auto* buffer : {&a.d_mlm_norm, &a.d_mlm_act, &a.d_mlm_pre}) Resize(*buffer, m * e);
  Resize(a.d_mlm_gathered, m * h);
  Resize(a.d_sentence_logits, b * 2);
  for (auto* buffer : {&a.d_pooled_dropped, &a.d_pooled, &a.d_pooled_pre, &a.d_cls}) Resize(*buffer, b * h);
  for (auto* buffer : {&a.d_embedding_out, &a.d_embedding_norm, &a.d_embedding_sum}) Resize(*buffer, n * e);
}

void Model::ForwardLayer(int layer, const float* input, LayerActivations& l) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  const float* w = parameters_.data();
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float eps = config_.layer_norm_eps();
  const float hidden_p = options_.training ? config_.hidden_dropout_prob() : 0.0f;
  const float attention_p = options_.training ? config_.attention_probs_dropout_prob() : 0.0f;
  const AttentionShape shape{batch_size_, seq_len_, h, config_.num_attention_heads()};

  matmul_forward(l.qkv.data(), input, w + p.qkv_weight.offset, w + p.qkv_bias.offset, n, h, 3 * h);
  attention_forward(l.context.data(), l.probs.data(), l.qkv.data(), batch_.attention_mask.data(), shape,
                    DropoutAt(attention_p, AttentionProbsStream(layer), int64_t{config_.num_attention_heads()} * seq_len_ * seq_len_));
  // attention_sum = input + dropout(context · Woᵀ + bo)
  matmul_forward(l.attention_sum.data(), l.context.data(), w + p.attention_output_weight.offset,
                 w + p.attention_output_bias.offset, n, h, h);
  dropout_forward(l.attention_sum.data(), l.attention_sum.data(), n * h,
                  DropoutAt(hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h));
  residual_forward(l.attention_sum.data(), l.attention_sum.data(), input, n * h);
  layernorm_forward(l.attention_out.data(), l.attention_mean.data(), l.attention_rstd.data(),
                    l.attention_sum.data(), w + p.attention_norm_weight.offset,
                    w + p.attention_norm_bias.offset, n, h, eps);
  // ffn_sum = attention_out + dropout(act(attention_out · W1ᵀ + b1) · W2ᵀ + b2)
  matmul_forward(l.ffn_pre.data(), l.attention_out.data(), w + p.ffn_weight.offset,
                 w + p.ffn_bias.offset, n, h, inner);
  activation_forward(ActivationOf(config_), l.ffn_act.data(), l.ffn_pre.data(), n * inner);
  matmul_forward(l.ffn_sum.data(), l.ffn_act.data(), w + p.ffn_output_weight.offset,
                 w + p.ffn_output_bias.offset, n, inner, h);
  // Original ALBERT and BERT drop out the feed-forward output; Hugging Face's ALBERT omits
  // it. Released ALBERT configs use hidden_dropout_prob = 0, where the two agree.
  dropout_forward(l.ffn_sum.data(), l.ffn_sum.data(), n * h,
                  DropoutAt(hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h));
  residual_forward(l.ffn_sum.data(), l.ffn_sum.data(), l.attention_out.data(), n * h);
  layernorm_forward(l.output.data(), l.ffn_mean.data(), l.ffn_rstd.data(), l.ffn_sum.data(),
                    w + p.ffn_norm_weight.offset, w + p.ffn_norm_bias.offset, n, h, eps);
}

absl::StatusOr<Losses> Model::Forward(const Batch& batch, const StepOptions& options) {
  if (absl::Status status = ValidateBatch(batch, config_); !status.ok()) return status;
  batch_ = batch;
  options_ = options;
  has_forward_ = true;
  ResizeActivations(batch.batch_size, batch.seq_len, static_cast<int>(batch.masked_positions.size()));
  Activations& a = *acts_;
  const float* w = parameters_.data();
  const int64_t b = batch_size_, t = seq_len_, n = b * t, m = predictions_;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size(), v = config_.vocab_size();
  const float eps = config_.layer_norm_eps();
  const Activation act = ActivationOf(config_);
  const float hidden_p = options.training ? config_.hidden_dropout_prob() : 0.0f;
  const float classifier_p = options.training ? config_.classifier_dropout_prob() : 0.0f;

  embedding_forward(a.embedding_sum.data(), batch_.input_ids.data(), batch_.token_type_ids.data(),
                    w + layout_.word_embeddings.offset, w + layout_.position_embeddings.offset,
                    w + layout_.token_type_embeddings.offset, b, t, e);
  layernorm_forward(a.embedding_norm.data(), a.embedding_mean.data(), a.embedding_rstd.data(),
                    a.embedding_sum.data(), w + layout_.embedding_norm_weight.offset,
                    w + layout_.embedding_norm_bias.offset, n, e, eps);
  dropout_forward(a.embedding_out.data(), a.embedding_norm.data(), n * e,
                  DropoutAt(hidden_p, kEmbeddingStream, t * e));
  const float* x = a.embedding_out.data();
  if (IsAlbert(config_)) {
    matmul_forward(a.projection.data(), x, w + layout_.embedding_projection_weight.offset,
                   w + layout_.embedding_projection_bias.offset, n, e, h);
    x = a.projection.data();
  }
  for (int layer = 0; layer < config_.num_hidden_layers(); ++layer) {
    ForwardLayer(layer, x, a.layers[layer]);
    x = a.layers[layer].output.data();
  }

  // MLM head at the masked positions; the decoder is the word-embedding matrix.
  gather_rows_forward(a.mlm_gathered.data(), x, batch_.masked_positions.data(), m, h);
  matmul_forward(a.mlm_pre.data(), a.mlm_gathered.data(), w + layout_.mlm_dense_weight.offset,
                 w + layout_.mlm_dense_bias.offset, m, h, e);
  activation_forward(act, a.mlm_act.data(), a.mlm_pre.data(), m * e);
  layernorm_forward(a.mlm_norm.data(), a.mlm_mean.data(), a.mlm_rstd.data(), a.mlm_act.data(),
                    w + layout_.mlm_norm_weight.offset, w + layout_.mlm_norm_bias.offset, m, e, eps);
  matmul_forward(a.mlm_logits.data(), a.mlm_norm.data(), w + layout_.word_embeddings.offset,
                 w + layout_.mlm_output_bias.offset, m, e, v);
  softmax_cross_entropy_forward(a.mlm_losses.data(), a.mlm_probs.data(), a.mlm_logits.data(),
                                batch_.masked_labels.data(), m, v);

  // Sentence head: pooler on [CLS], then the two-way classifier.
  gather_rows_forward(a.cls_hidden.data(), x, a.cls_rows.data(), b, h);
  matmul_forward(a.pooled_pre.data(), a.cls_hidden.data(), w + layout_.pooler_weight.offset,
                 w + layout_.pooler_bias.offset, b, h, h);
  tanh_forward(a.pooled.data(), a.pooled_pre.data(), b * h);
  dropout_forward(a.pooled_dropped.data(), a.pooled.data(), b * h,
                  DropoutAt(classifier_p, ClassifierStream(config_.num_hidden_layers()), h));
  matmul_forward(a.sentence_logits.data(), a.pooled_dropped.data(), w + layout_.sentence_weight.offset,
                 w + layout_.sentence_bias.offset, b, h, 2);
  softmax_cross_entropy_forward(a.sentence_losses.data(), a.sentence_probs.data(),
                                a.sentence_logits.data(), batch_.sentence_labels.data(), b, 2);

  Losses losses;
  SummarizeHead(a.mlm_losses, RowArgmax(a.mlm_logits, v), batch_.masked_labels, &losses.mlm_loss,
                &losses.mlm_loss_sum, &losses.mlm_count, &losses.mlm_correct);
  SummarizeHead(a.sentence_losses, RowArgmax(a.sentence_logits, 2), batch_.sentence_labels, &losses.sentence_loss,
                &losses.sentence_loss_sum, &losses.sentence_count, &losses.sentence_correct);
  losses.total_loss = losses.mlm_loss + losses.sentence_loss;
  losses_ = losses;
  return losses;
}

void Model::BackwardLayer(int layer, const float* input, const LayerActivations& l, float* dinput,
                          float* doutput) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  const float* w = parameters_.data();
  float* g = gradients_.data();
  Activations& a = *acts_;
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float hidden_p = options_.training ? config_.hidden_dropout_prob() : 0.0f;
  const float attention_p = options_.training ? config_.attention_probs_dropout_prob() : 0.0f;
  const AttentionShape shape{batch_size_, seq_len_, h, config_.num_attention_heads()};
  for (auto* buffer : {&a.d_ffn_sum, &a.d_ffn_dense, &a.d_ffn_act, &a.d_ffn_pre, &a.d_attention_out,
                       &a.d_attention_sum, &a.d_attention_dense, &a.d_context, &a.d_qkv}) {
    Zero(*buffer);
  }

  layernorm_backward(a.d_ffn_sum.data(), g + p.ffn_norm_weight.offset, g + p.ffn_norm_bias.offset,
                     doutput, l.ffn_sum.data(), w + p.ffn_norm_weight.offset, l.ffn_mean.data(),
                     l.ffn_rstd.data(), n, h);
  accumulate(a.d_attention_out.data(), a.d_ffn_sum.data(), n * h);  // residual branch
  dropout_backward(a.d_ffn_dense.data(), a.d_ffn_sum.data(), n * h,
                   DropoutAt(hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h));
  matmul_backward(a.d_ffn_act.data(), g + p.ffn_output_weight.offset, g + p.ffn_output_bias.offset,
                  a.d_ffn_dense.data(), l.ffn_act.data(), w + p.ffn_output_weight.offset, n, inner, h);
  activation_backward(ActivationOf(config_), a.d_ffn_pre.data(), l.ffn_pre.data(), a.d_ffn_act.data(),
                      n * inner);
  matmul_backward(a.d_attention_out.data(), g + p.ffn_weight.offset, g + p.ffn_bias.offset,
                  a.d_ffn_pre.data(), l.attention_out.data(), w + p.ffn_weight.offset, n, h, inner);

  layernorm_backward(a.d_attention_sum.data(), g + p.attention_norm_weight.offset,
                     g + p.attention_norm_bias.offset, a.d_attention_out.data(), l.attention_sum.data(),
                     w + p.attention_norm_weight.offset, l.attention_mean.data(),
                     l.attention_rstd.data(), n, h);
  accumulate(dinput, a.d_attention_sum.data(), n * h);  // residual branch
  dropout_backward(a.d_attention_dense.data(), a.d_attention_sum.data(), n * h,
                   DropoutAt(hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h));
  matmul_backward(a.d_context.data(), g + p.attention_output_weight.offset,
                  g + p.attention_output_bias.offset, a.d_attention_dense.data(), l.context.data(),
                  w + p.attention_output_weight.offset, n, h, h);
  attention_backward(a.d_qkv.data(), a.d_context.data(), l.qkv.data(), l.probs.data(), shape,
                     DropoutAt(attention_p, AttentionProbsStream(layer), int64_t{config_.num_attention_heads()} * seq_len_ * seq_len_));
  matmul_backward(dinput, g + p.qkv_weight.offset, g + p.qkv_bias.offset, a.d_qkv.data(), input,
                  w + p.qkv_weight.offset, n, h, 3 * h);
}

cpu::DropoutSpec Model::DropoutAt(float p, uint64_t stream, int64_t elements_per_example) const {
  return {.p = p,
          .seed = options_.dropout_seed,
          .stream = stream,
          .first_index = static_cast<uint64_t>(options_.first_example * elements_per_example)};
}

void Model::Backward(float loss_scale) {
  if (!has_forward_) return;
  BackwardScaled(losses_.mlm_count > 0 ? loss_scale / losses_.mlm_count : 0.0f,
                 losses_.sentence_count > 0 ? loss_scale / losses_.sentence_count : 0.0f);
}

void Model::Backward(const LossNormalizer& normalizer) {
  if (!has_forward_) return;
  BackwardScaled(normalizer.mlm_predictions > 0 ? static_cast<float>(1.0 / normalizer.mlm_predictions) : 0.0f,
                 normalizer.sentence_predictions > 0 ? static_cast<float>(1.0 / normalizer.sentence_predictions)
                                                     : 0.0f);
}

void Model::BackwardScaled(float mlm_scale, float sentence_scale) {
  Activations& a = *acts_;
  const float* w = parameters_.data();
  float* g = gradients_.data();
  const int64_t b = batch_size_, t = seq_len_, n = b * t, m = predictions_;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size(), v = config_.vocab_size();
  const int layers = config_.num_hidden_layers();
  const float hidden_p = options_.training ? config_.hidden_dropout_prob() : 0.0f;
  const float classifier_p = options_.training ? config_.classifier_dropout_prob() : 0.0f;

  const Losses& counts = losses_;
  for (auto* buffer : {&a.d_output, &a.d_mlm_logits, &a.d_mlm_norm, &a.d_mlm_act, &a.d_mlm_pre,
                       &a.d_mlm_gathered, &a.d_sentence_logits, &a.d_pooled_dropped, &a.d_pooled,
                       &a.d_pooled_pre, &a.d_cls, &a.d_embedding_out, &a.d_embedding_norm,
                       &a.d_embedding_sum}) {
    Zero(*buffer);
  }

  // Sentence head: classifier, dropout, tanh pooler, back to the [CLS] rows.
  if (counts.sentence_count > 0) {
    softmax_cross_entropy_backward(a.d_sentence_logits.data(), a.sentence_probs.data(),
                                   batch_.sentence_labels.data(), b, 2,
                                   sentence_scale);
    matmul_backward(a.d_pooled_dropped.data(), g + layout_.sentence_weight.offset,
                    g + layout_.sentence_bias.offset, a.d_sentence_logits.data(),
                    a.pooled_dropped.data(), w + layout_.sentence_weight.offset, b, h, 2);
    dropout_backward(a.d_pooled.data(), a.d_pooled_dropped.data(), b * h,
                     DropoutAt(classifier_p, ClassifierStream(layers), h));
    tanh_backward(a.d_pooled_pre.data(), a.pooled.data(), a.d_pooled.data(), b * h);
    matmul_backward(a.d_cls.data(), g + layout_.pooler_weight.offset, g + layout_.pooler_bias.offset,
                    a.d_pooled_pre.data(), a.cls_hidden.data(), w + layout_.pooler_weight.offset, b,
                    h, h);
    gather_rows_backward(a.d_output.data(), a.d_cls.data(), a.cls_rows.data(), b, h);
  }

  // MLM head: tied decoder, layer norm, activation, dense, back to the masked rows.
  if (counts.mlm_count > 0) {
    softmax_cross_entropy_backward(a.d_mlm_logits.data(), a.mlm_probs.data(),
                                   batch_.masked_labels.data(), m, v, mlm_scale);
    matmul_backward(a.d_mlm_norm.data(), g + layout_.word_embeddings.offset,
                    g + layout_.mlm_output_bias.offset, a.d_mlm_logits.data(), a.mlm_norm.data(),
                    w + layout_.word_embeddings.offset, m, e, v);
    layernorm_backward(a.d_mlm_act.data(), g + layout_.mlm_norm_weight.offset,
                       g + layout_.mlm_norm_bias.offset, a.d_mlm_norm.data(), a.mlm_act.data(),
                       w + layout_.mlm_norm_weight.offset, a.mlm_mean.data(), a.mlm_rstd.data(), m, e);
    activation_backward(ActivationOf(config_), a.d_mlm_pre.data(), a.mlm_pre.data(),
                        a.d_mlm_act.data(), m * e);
    matmul_backward(a.d_mlm_gathered.data(), g + layout_.mlm_dense_weight.offset,
                    g + layout_.mlm_dense_bias.offset, a.d_mlm_pre.data(), a.mlm_gathered.data(),
                    w + layout_.mlm_dense_weight.offset, m, h, e);
    gather_rows_backward(a.d_output.data(), a.d_mlm_gathered.data(), batch_.masked_positions.data(),
                         m, h);
  }

  // Encoder layers, last to first; d_output holds d(loss)/d(layer output).
  for (int layer = layers - 1; layer >= 0; --layer) {
    const float* input = layer > 0 ? a.layers[layer - 1].output.data()
                                   : (IsAlbert(config_) ? a.projection.data() : a.embedding_out.data());
    Zero(a.d_input);
    BackwardLayer(layer, input, a.layers[layer], a.d_input.data(), a.d_output.data());
    std::swap(a.d_input, a.d_output);
  }

  // Embeddings; d_output is now d(loss)/d(encoder input). BERT has no projection (E = H).
  const float* d_embedding_out = a.d_output.data();
  if (IsAlbert(config_)) {
    matmul_backward(a.d_embedding_out.data(), g + layout_.embedding_projection_weight.offset,
                    g + layout_.embedding_projection_bias.offset, a.d_output.data(),
                    a.embedding_out.data(), w + layout_.embedding_projection_weight.offset, n, e, h);
    d_embedding_out = a.d_embedding_out.data();
  }
  dropout_backward(a.d_embedding_norm.data(), d_embedding_out, n * e,
                   DropoutAt(hidden_p, kEmbeddingStream, t * e));
  layernorm_backward(a.d_embedding_sum.data(), g + layout_.embedding_norm_weight.offset,
                     g + layout_.embedding_norm_bias.offset, a.d_embedding_norm.data(),
                     a.embedding_sum.data(), w + layout_.embedding_norm_weight.offset,
                     a.embedding_mean.data(), a.embedding_rstd.data(), n, e);
  embedding_backward(g + layout_.word_embeddings.offset, g + layout_.position_embeddings.offset,
                     g + layout_.token_type_embeddings.offset, a.d_embedding_sum.data(),
                     batch_.input_ids.data(), batch_.token_type_ids.data(), b, t, e);
}

std::span<const float> Model::mlm_logits() const { return acts_->mlm_logits; }
std::span<const float> Model::sentence_logits() const { return acts_->sentence_logits; }

}  // namespace cloze
