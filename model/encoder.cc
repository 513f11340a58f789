#include "model/encoder.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "kernels/cpu/activations.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/embedding.h"
#include "kernels/cpu/fused.h"
#include "kernels/cpu/gather.h"
#include "kernels/cpu/layernorm.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/residual.h"
#include "model/model_config.h"

namespace cloze {

using namespace cpu;  // the ops

// What one transformer layer keeps from forward for backward. N = B·T tokens.
struct Encoder::LayerActivations {
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

struct Encoder::Activations {
  // Embeddings (N, E) and the ALBERT projection (N, H).
  std::vector<float> embedding_sum, embedding_mean, embedding_rstd, embedding_norm, embedding_out;
  std::vector<float> projection;
  std::vector<LayerActivations> layers;
  // Pooler on [CLS].
  std::vector<int32_t> cls_rows;                  // (B) flat index of each [CLS]
  std::vector<float> cls_hidden, pooled_pre, pooled;  // (B, H)

  // Gradient scratch for one layer at a time (backward walks layers in reverse).
  std::vector<float> d_output, d_input;                // (N, H)
  std::vector<float> d_ffn_sum, d_ffn_dense;           // (N, H)
  std::vector<float> d_ffn_act, d_ffn_pre;             // (N, I)
  std::vector<float> d_attention_out, d_attention_sum, d_attention_dense, d_context;  // (N, H)
  std::vector<float> d_qkv;                            // (N, 3H)
  std::vector<float> d_pooled, d_pooled_pre, d_cls;    // (B, H)
  std::vector<float> d_embedding_out, d_embedding_norm, d_embedding_sum;  // (N, E)
};

namespace {

void Resize(std::vector<float>& v, int64_t n) { v.assign(n, 0.0f); }
void Zero(std::vector<float>& v) { std::fill(v.begin(), v.end(), 0.0f); }

// The element-wise work around the products: on the bf16 path in fused passes
// (kernels/cpu/fused.h), on the fp32 path as the separate ops, which are the oracle.

// sum = residual + dropout(sum); out = layernorm(sum).
void ResidualNormForward(Precision precision, float* out, float* mean, float* rstd, float* sum,
                         const float* residual, const float* weight, const float* bias, int64_t n, int64_t c,
                         float eps, const DropoutSpec& dropout) {
  if (precision == Precision::kBf16) {
    dropout_residual_layernorm_forward(out, mean, rstd, sum, sum, residual, weight, bias, n, c, eps, dropout);
    return;
  }
  dropout_forward(sum, sum, n * c, dropout);
  residual_forward(sum, sum, residual, n * c);
  layernorm_forward(out, mean, rstd, sum, weight, bias, n, c, eps);
}

// Its backward: d_residual += d_sum, d_x += dropout_backward(d_sum), with d_sum (zeroed
// scratch, used on the fp32 path only) = the layer norm's backward of dout.
void ResidualNormBackward(Precision precision, float* d_x, float* d_residual, float* d_sum, float* dweight,
                          float* dbias, const float* dout, const float* sum, const float* weight, const float* mean,
                          const float* rstd, int64_t n, int64_t c, const DropoutSpec& dropout) {
  if (precision == Precision::kBf16) {
    dropout_residual_layernorm_backward(d_x, d_residual, dweight, dbias, dout, sum, weight, mean, rstd, n, c,
                                        dropout);
    return;
  }
  layernorm_backward(d_sum, dweight, dbias, dout, sum, weight, mean, rstd, n, c);
  accumulate(d_residual, d_sum, n * c);
  dropout_backward(d_x, d_sum, n * c, dropout);
}

}  // namespace

Encoder::Encoder(const ModelConfig& config, const ParameterLayout& layout, Precision precision)
    : config_(config), layout_(layout), precision_(precision), acts_(std::make_unique<Activations>()) {}

Encoder::~Encoder() = default;
Encoder::Encoder(Encoder&&) noexcept = default;
Encoder& Encoder::operator=(Encoder&&) noexcept = default;

void Encoder::Resize(int batch_size, int seq_len) {
  if (batch_size == batch_size_ && seq_len == seq_len_) return;
  batch_size_ = batch_size;
  seq_len_ = seq_len;
  const int64_t n = int64_t{batch_size} * seq_len, b = batch_size;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const int64_t heads = config_.num_attention_heads();
  Activations& a = *acts_;
  for (auto* buffer : {&a.embedding_sum, &a.embedding_norm, &a.embedding_out}) cloze::Resize(*buffer, n * e);
  cloze::Resize(a.embedding_mean, n);
  cloze::Resize(a.embedding_rstd, n);
  cloze::Resize(a.projection, IsAlbert(config_) ? n * h : 0);
  a.layers.resize(config_.num_hidden_layers());
  for (LayerActivations& l : a.layers) {
    cloze::Resize(l.qkv, n * 3 * h);
    cloze::Resize(l.probs, b * heads * seq_len * seq_len);
    for (auto* buffer : {&l.context, &l.attention_sum, &l.attention_out, &l.ffn_sum, &l.output}) {
      cloze::Resize(*buffer, n * h);
    }
    for (auto* buffer : {&l.attention_mean, &l.attention_rstd, &l.ffn_mean, &l.ffn_rstd}) cloze::Resize(*buffer, n);
    cloze::Resize(l.ffn_pre, n * inner);
    cloze::Resize(l.ffn_act, n * inner);
  }
  a.cls_rows.resize(b);
  for (int i = 0; i < batch_size; ++i) a.cls_rows[i] = i * seq_len;
  for (auto* buffer : {&a.cls_hidden, &a.pooled_pre, &a.pooled}) cloze::Resize(*buffer, b * h);
  for (auto* buffer : {&a.d_output, &a.d_input, &a.d_ffn_sum, &a.d_ffn_dense, &a.d_attention_out,
                       &a.d_attention_sum, &a.d_attention_dense, &a.d_context}) {
    cloze::Resize(*buffer, n * h);
  }
  cloze::Resize(a.d_ffn_act, n * inner);
  cloze::Resize(a.d_ffn_pre, n * inner);
  cloze::Resize(a.d_qkv, n * 3 * h);
  for (auto* buffer : {&a.d_pooled, &a.d_pooled_pre, &a.d_cls}) cloze::Resize(*buffer, b * h);
  for (auto* buffer : {&a.d_embedding_out, &a.d_embedding_norm, &a.d_embedding_sum}) cloze::Resize(*buffer, n * e);
}

void Encoder::ForwardLayer(const float* w, const Batch& batch, int layer, const float* input, LayerActivations& l) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float eps = config_.layer_norm_eps();
  const float hidden_p = config_.hidden_dropout_prob();
  const AttentionShape shape{batch_size_, seq_len_, h, config_.num_attention_heads()};

  matmul_forward(l.qkv.data(), input, w + p.qkv_weight.offset, w + p.qkv_bias.offset, n, h, 3 * h, precision_,
                 &packed_weights_);
  attention_forward(l.context.data(), l.probs.data(), l.qkv.data(), batch.attention_mask.data(), shape,
                    DropoutAt(options_, config_.attention_probs_dropout_prob(), AttentionProbsStream(layer),
                              int64_t{config_.num_attention_heads()} * seq_len_ * seq_len_), precision_);
  // attention_sum = input + dropout(context · Woᵀ + bo)
  matmul_forward(l.attention_sum.data(), l.context.data(), w + p.attention_output_weight.offset,
                 w + p.attention_output_bias.offset, n, h, h, precision_, &packed_weights_);
  ResidualNormForward(precision_, l.attention_out.data(), l.attention_mean.data(), l.attention_rstd.data(),
                      l.attention_sum.data(), input, w + p.attention_norm_weight.offset,
                      w + p.attention_norm_bias.offset, n, h, eps,
                      DropoutAt(options_, hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h));
  // ffn_sum = attention_out + dropout(act(attention_out · W1ᵀ + b1) · W2ᵀ + b2)
  matmul_forward(l.ffn_pre.data(), l.attention_out.data(), w + p.ffn_weight.offset,
                 w + p.ffn_bias.offset, n, h, inner, precision_, &packed_weights_);
  if (precision_ == Precision::kBf16) {
    activation_forward_fused(ActivationOf(config_), l.ffn_act.data(), l.ffn_pre.data(), n * inner);
  } else {
    activation_forward(ActivationOf(config_), l.ffn_act.data(), l.ffn_pre.data(), n * inner);
  }
  matmul_forward(l.ffn_sum.data(), l.ffn_act.data(), w + p.ffn_output_weight.offset,
                 w + p.ffn_output_bias.offset, n, inner, h, precision_, &packed_weights_);
  // Original ALBERT and BERT drop out the feed-forward output; Hugging Face's ALBERT omits
  // it. Released ALBERT configs use hidden_dropout_prob = 0, where the two agree.
  ResidualNormForward(precision_, l.output.data(), l.ffn_mean.data(), l.ffn_rstd.data(), l.ffn_sum.data(),
                      l.attention_out.data(), w + p.ffn_norm_weight.offset, w + p.ffn_norm_bias.offset, n, h, eps,
                      DropoutAt(options_, hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h));
}

void Encoder::Forward(const float* w, const Batch& batch, const StepOptions& options, bool pooled) {
  Resize(batch.batch_size, batch.seq_len);
  packed_weights_.Clear();  // the parameters may have changed since the last Forward
  options_ = options;
  pooled_ = pooled;
  Activations& a = *acts_;
  const int64_t b = batch_size_, t = seq_len_, n = b * t;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();

  embedding_forward(a.embedding_sum.data(), batch.input_ids.data(), batch.token_type_ids.data(),
                    w + layout_.word_embeddings.offset, w + layout_.position_embeddings.offset,
                    w + layout_.token_type_embeddings.offset, b, t, e);
  layernorm_forward(a.embedding_norm.data(), a.embedding_mean.data(), a.embedding_rstd.data(),
                    a.embedding_sum.data(), w + layout_.embedding_norm_weight.offset,
                    w + layout_.embedding_norm_bias.offset, n, e, config_.layer_norm_eps());
  dropout_forward(a.embedding_out.data(), a.embedding_norm.data(), n * e,
                  DropoutAt(options_, config_.hidden_dropout_prob(), kEmbeddingStream, t * e));
  const float* x = a.embedding_out.data();
  if (IsAlbert(config_)) {
    matmul_forward(a.projection.data(), x, w + layout_.embedding_projection_weight.offset,
                   w + layout_.embedding_projection_bias.offset, n, e, h, precision_, &packed_weights_);
    x = a.projection.data();
  }
  for (int layer = 0; layer < config_.num_hidden_layers(); ++layer) {
    ForwardLayer(w, batch, layer, x, a.layers[layer]);
    x = a.layers[layer].output.data();
  }
  if (!pooled) return;
  gather_rows_forward(a.cls_hidden.data(), x, a.cls_rows.data(), b, h);
  matmul_forward(a.pooled_pre.data(), a.cls_hidden.data(), w + layout_.pooler_weight.offset,
                 w + layout_.pooler_bias.offset, b, h, h, precision_, &packed_weights_);
  tanh_forward(a.pooled.data(), a.pooled_pre.data(), b * h);
}

const float* Encoder::hidden() const { return acts_->layers.back().output.data(); }
const float* Encoder::pooled() const { return acts_->pooled.data(); }

std::span<const float> Encoder::hidden_state(int i) const {
  const Activations& a = *acts_;
  if (i > 0) return a.layers[i - 1].output;
  return IsAlbert(config_) ? a.projection : a.embedding_out;
}

float* Encoder::d_hidden() { return acts_->d_output.data(); }
float* Encoder::d_pooled() { return acts_->d_pooled.data(); }

void Encoder::ZeroOutputGradients() {
  Zero(acts_->d_output);
  Zero(acts_->d_pooled);
}

void Encoder::BackwardLayer(const float* w, float* g, int layer, const float* input, const LayerActivations& l,
                            float* dinput, float* doutput) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  Activations& a = *acts_;
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float hidden_p = config_.hidden_dropout_prob();
  const AttentionShape shape{batch_size_, seq_len_, h, config_.num_attention_heads()};
  for (auto* buffer : {&a.d_ffn_sum, &a.d_ffn_dense, &a.d_ffn_act, &a.d_ffn_pre, &a.d_attention_out,
                       &a.d_attention_sum, &a.d_attention_dense, &a.d_context, &a.d_qkv}) {
    Zero(*buffer);
  }

  // The residual branch's gradient goes to d_attention_out, the dense branch's to d_ffn_dense.
  ResidualNormBackward(precision_, a.d_ffn_dense.data(), a.d_attention_out.data(), a.d_ffn_sum.data(),
                       g + p.ffn_norm_weight.offset, g + p.ffn_norm_bias.offset, doutput, l.ffn_sum.data(),
                       w + p.ffn_norm_weight.offset, l.ffn_mean.data(), l.ffn_rstd.data(), n, h,
                       DropoutAt(options_, hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h));
  matmul_backward(a.d_ffn_act.data(), g + p.ffn_output_weight.offset, g + p.ffn_output_bias.offset,
                  a.d_ffn_dense.data(), l.ffn_act.data(), w + p.ffn_output_weight.offset, n, inner, h, precision_,
                  &packed_weights_);
  float* ffn_dbias = g + p.ffn_bias.offset;
  if (precision_ == Precision::kBf16) {  // the bias gradient in the activation's pass
    activation_bias_backward(ActivationOf(config_), a.d_ffn_pre.data(), ffn_dbias, l.ffn_pre.data(),
                             a.d_ffn_act.data(), n, inner);
    ffn_dbias = nullptr;
  } else {
    activation_backward(ActivationOf(config_), a.d_ffn_pre.data(), l.ffn_pre.data(), a.d_ffn_act.data(),
                        n * inner);
  }
  matmul_backward(a.d_attention_out.data(), g + p.ffn_weight.offset, ffn_dbias, a.d_ffn_pre.data(),
                  l.attention_out.data(), w + p.ffn_weight.offset, n, h, inner, precision_, &packed_weights_);

  ResidualNormBackward(precision_, a.d_attention_dense.data(), dinput, a.d_attention_sum.data(),
                       g + p.attention_norm_weight.offset, g + p.attention_norm_bias.offset,
                       a.d_attention_out.data(), l.attention_sum.data(), w + p.attention_norm_weight.offset,
                       l.attention_mean.data(), l.attention_rstd.data(), n, h,
                       DropoutAt(options_, hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h));
  matmul_backward(a.d_context.data(), g + p.attention_output_weight.offset,
                  g + p.attention_output_bias.offset, a.d_attention_dense.data(), l.context.data(),
                  w + p.attention_output_weight.offset, n, h, h, precision_, &packed_weights_);
  attention_backward(a.d_qkv.data(), a.d_context.data(), l.qkv.data(), l.probs.data(), shape,
                     DropoutAt(options_, config_.attention_probs_dropout_prob(), AttentionProbsStream(layer),
                               int64_t{config_.num_attention_heads()} * seq_len_ * seq_len_), precision_);
  matmul_backward(dinput, g + p.qkv_weight.offset, g + p.qkv_bias.offset, a.d_qkv.data(), input,
                  w + p.qkv_weight.offset, n, h, 3 * h, precision_, &packed_weights_);
}

void Encoder::Backward(const float* w, float* g, const Batch& batch) {
  Activations& a = *acts_;
  const int64_t b = batch_size_, t = seq_len_, n = b * t;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();
  const int layers = config_.num_hidden_layers();
  for (auto* buffer : {&a.d_pooled_pre, &a.d_cls, &a.d_embedding_out, &a.d_embedding_norm, &a.d_embedding_sum}) {
    Zero(*buffer);
  }

  // Pooler: tanh, dense, back to the [CLS] rows.
  if (pooled_) {
    tanh_backward(a.d_pooled_pre.data(), a.pooled.data(), a.d_pooled.data(), b * h);
    matmul_backward(a.d_cls.data(), g + layout_.pooler_weight.offset, g + layout_.pooler_bias.offset,
                    a.d_pooled_pre.data(), a.cls_hidden.data(), w + layout_.pooler_weight.offset, b, h, h, precision_,
                    &packed_weights_);
    gather_rows_backward(a.d_output.data(), a.d_cls.data(), a.cls_rows.data(), b, h);
  }

  // Layers, last to first; d_output holds d(loss)/d(layer output).
  for (int layer = layers - 1; layer >= 0; --layer) {
    const float* input = layer > 0 ? a.layers[layer - 1].output.data()
                                   : (IsAlbert(config_) ? a.projection.data() : a.embedding_out.data());
    Zero(a.d_input);
    BackwardLayer(w, g, layer, input, a.layers[layer], a.d_input.data(), a.d_output.data());
    std::swap(a.d_input, a.d_output);
  }

  // Embeddings; d_output is now d(loss)/d(encoder input). BERT has no projection (E = H).
  const float* d_embedding_out = a.d_output.data();
  if (IsAlbert(config_)) {
    matmul_backward(a.d_embedding_out.data(), g + layout_.embedding_projection_weight.offset,
                    g + layout_.embedding_projection_bias.offset, a.d_output.data(), a.embedding_out.data(),
                    w + layout_.embedding_projection_weight.offset, n, e, h, precision_, &packed_weights_);
    d_embedding_out = a.d_embedding_out.data();
  }
  dropout_backward(a.d_embedding_norm.data(), d_embedding_out, n * e,
                   DropoutAt(options_, config_.hidden_dropout_prob(), kEmbeddingStream, t * e));
  layernorm_backward(a.d_embedding_sum.data(), g + layout_.embedding_norm_weight.offset,
                     g + layout_.embedding_norm_bias.offset, a.d_embedding_norm.data(),
                     a.embedding_sum.data(), w + layout_.embedding_norm_weight.offset,
                     a.embedding_mean.data(), a.embedding_rstd.data(), n, e);
  embedding_backward(g + layout_.word_embeddings.offset, g + layout_.position_embeddings.offset,
                     g + layout_.token_type_embeddings.offset, a.d_embedding_sum.data(),
                     batch.input_ids.data(), batch.token_type_ids.data(), b, t, e, config_.pad_token_id());
}

}  // namespace cloze
