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

  // The packed layout of the last Forward (unused when it ran padded): example b's real
  // tokens are rows [row_begin[b], row_begin[b + 1]); packed row r is padded row padded_row[r].
  std::vector<int32_t> row_begin;   // (B + 1)
  std::vector<int32_t> padded_row;  // (N')
  // hidden_state(i) in the padded layout, scattered from the packed rows at first use.
  std::vector<std::vector<float>> padded_states;  // (layers + 1) of (B·T, H)
  std::vector<bool> padded_ready;
};

namespace {

void Resize(std::vector<float>& v, int64_t n) { v.assign(n, 0.0f); }
// Zeroes the first `rows` rows of v (rows of v.size() / capacity_rows elements): what a
// Forward or Backward of that many rows uses of buffers sized for B·T.
void ZeroRows(std::vector<float>& v, int64_t rows, int64_t capacity_rows) {
  std::fill(v.begin(), v.begin() + static_cast<int64_t>(v.size()) / capacity_rows * rows, 0.0f);
}

// Row starts (B + 1) of the packed layout when every row of `mask` (B, T) is L_b ≥ 1 ones then
// zeros and some row has padding; empty otherwise (the batch runs padded).
std::vector<int32_t> PackedRowBegins(const std::vector<int32_t>& mask, int b, int t) {
  std::vector<int32_t> begin(b + 1, 0);
  for (int i = 0; i < b; ++i) {
    const int32_t* row = mask.data() + int64_t{i} * t;
    const int length = static_cast<int>(std::find(row, row + t, 0) - row);
    if (length == 0 || std::any_of(row + length, row + t, [](int32_t m) { return m != 0; })) return {};
    begin[i + 1] = begin[i] + length;
  }
  if (begin[b] == int64_t{b} * t) return {};
  return begin;
}

// The rows a packed batch of `real` tokens runs on: rounded up to a multiple of 16 (at most
// the padded B·T). The bf16 products keep a oneDNN primitive per row count (bf16_gemm.h,
// bf16_weights.h); rounding bounds how many a long fine-tuning run makes, as the padded
// layout's B·T does. The spare rows hold zeros at the input and get zero gradients, so they
// add exact zeros to every parameter gradient.
int64_t PackedRowCount(int64_t real, int64_t padded) { return std::min((real + 15) / 16 * 16, padded); }

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
  a.row_begin.assign(b + 1, 0);
  a.padded_row.assign(n, 0);
  a.padded_states.assign(config_.num_hidden_layers() + 1, {});
  a.padded_ready.assign(config_.num_hidden_layers() + 1, false);
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

void Encoder::LayOutRows(const Batch& batch, TokenLayout layout) {
  Activations& a = *acts_;
  const int64_t t = seq_len_, padded = int64_t{batch_size_} * t;
  std::vector<int32_t> begin;
  if (layout == TokenLayout::kPacked) begin = PackedRowBegins(batch.attention_mask, batch_size_, seq_len_);
  packed_ = !begin.empty();
  rows_ = real_rows_ = padded;
  std::fill(a.padded_ready.begin(), a.padded_ready.end(), false);
  if (!packed_) return;
  a.row_begin = std::move(begin);
  real_rows_ = a.row_begin[batch_size_];
  rows_ = PackedRowCount(real_rows_, padded);
  for (int b = 0; b < batch_size_; ++b) {
    for (int32_t r = a.row_begin[b]; r < a.row_begin[b + 1]; ++r) a.padded_row[r] = b * t + (r - a.row_begin[b]);
  }
}

// Calls op(first_row, rows, spec) over the rows_ rows in runs that are contiguous in the
// padded layout's dropout masks: all at once when padded or when `spec` drops nothing; when
// packed, each example's real tokens with `spec` shifted to their padded rows' masks
// (elements_per_row elements a row), then the spare rows without dropout. So a packed token
// draws the mask its padded twin draws.
template <typename Op>
void Encoder::ForEachRun(const DropoutSpec& spec, int64_t elements_per_row, Op op) const {
  if (!packed_ || !spec.active()) {
    op(int64_t{0}, rows_, spec);
    return;
  }
  const std::vector<int32_t>& begin = acts_->row_begin;
  for (int b = 0; b < batch_size_; ++b) {
    DropoutSpec run = spec;
    run.first_index += static_cast<uint64_t>(int64_t{b} * seq_len_ * elements_per_row);
    op(int64_t{begin[b]}, int64_t{begin[b + 1] - begin[b]}, run);
  }
  if (rows_ > real_rows_) op(real_rows_, rows_ - real_rows_, DropoutSpec{});
}

void Encoder::EmbeddingForward(const float* w, const Batch& batch) {
  Activations& a = *acts_;
  const int64_t b = batch_size_, t = seq_len_, e = config_.embedding_size();
  const float* word = w + layout_.word_embeddings.offset;
  const float* position = w + layout_.position_embeddings.offset;
  const float* type = w + layout_.token_type_embeddings.offset;
  if (!packed_) {
    embedding_forward(a.embedding_sum.data(), batch.input_ids.data(), batch.token_type_ids.data(), word, position,
                      type, b, t, e);
  } else {  // each example's first L_b tokens at positions 0..L_b-1; the spare rows zero
    for (int i = 0; i < b; ++i) {
      const int64_t first = a.row_begin[i], length = a.row_begin[i + 1] - first;
      embedding_forward(a.embedding_sum.data() + first * e, batch.input_ids.data() + i * t,
                        batch.token_type_ids.data() + i * t, word, position, type, 1, length, e);
    }
    std::fill(a.embedding_sum.begin() + real_rows_ * e, a.embedding_sum.begin() + rows_ * e, 0.0f);
  }
  layernorm_forward(a.embedding_norm.data(), a.embedding_mean.data(), a.embedding_rstd.data(),
                    a.embedding_sum.data(), w + layout_.embedding_norm_weight.offset,
                    w + layout_.embedding_norm_bias.offset, rows_, e, config_.layer_norm_eps());
  ForEachRun(DropoutAt(options_, config_.hidden_dropout_prob(), kEmbeddingStream, t * e), e,
             [&](int64_t first, int64_t rows, const DropoutSpec& dropout) {
               dropout_forward(a.embedding_out.data() + first * e, a.embedding_norm.data() + first * e, rows * e,
                               dropout);
             });
}

// d_embedding_out (rows_, E): d(loss)/d(the embeddings after dropout).
void Encoder::EmbeddingBackward(const float* w, float* g, const Batch& batch) {
  Activations& a = *acts_;
  const int64_t b = batch_size_, t = seq_len_, e = config_.embedding_size();
  const float* d_embedding_out = IsAlbert(config_) ? a.d_embedding_out.data() : a.d_output.data();
  ForEachRun(DropoutAt(options_, config_.hidden_dropout_prob(), kEmbeddingStream, t * e), e,
             [&](int64_t first, int64_t rows, const DropoutSpec& dropout) {
               dropout_backward(a.d_embedding_norm.data() + first * e, d_embedding_out + first * e, rows * e,
                                dropout);
             });
  layernorm_backward(a.d_embedding_sum.data(), g + layout_.embedding_norm_weight.offset,
                     g + layout_.embedding_norm_bias.offset, a.d_embedding_norm.data(),
                     a.embedding_sum.data(), w + layout_.embedding_norm_weight.offset,
                     a.embedding_mean.data(), a.embedding_rstd.data(), rows_, e);
  float* dword = g + layout_.word_embeddings.offset;
  float* dposition = g + layout_.position_embeddings.offset;
  float* dtype = g + layout_.token_type_embeddings.offset;
  if (!packed_) {
    embedding_backward(dword, dposition, dtype, a.d_embedding_sum.data(), batch.input_ids.data(),
                       batch.token_type_ids.data(), b, t, e, config_.pad_token_id());
    return;
  }
  for (int i = 0; i < b; ++i) {
    const int64_t first = a.row_begin[i], length = a.row_begin[i + 1] - first;
    embedding_backward(dword, dposition, dtype, a.d_embedding_sum.data() + first * e, batch.input_ids.data() + i * t,
                       batch.token_type_ids.data() + i * t, 1, length, e, config_.pad_token_id());
  }
}

// hidden_state(i) of a packed Forward into the padded layout. Const because it only fills
// the cache hidden_state reads (the encoder is not thread-safe anyway).
void Encoder::ScatterState(int i) const {
  Activations& a = *acts_;
  const int64_t t = seq_len_, h = config_.hidden_size();
  const float* packed = i > 0 ? a.layers[i - 1].output.data()
                              : (IsAlbert(config_) ? a.projection.data() : a.embedding_out.data());
  std::vector<float>& out = a.padded_states[i];
  out.resize(int64_t{batch_size_} * t * h);
#pragma omp parallel for schedule(static)
  for (int b = 0; b < batch_size_; ++b) {
    const int64_t first = a.row_begin[b], length = a.row_begin[b + 1] - first;
    float* dst = out.data() + b * t * h;
    std::copy(packed + first * h, packed + (first + length) * h, dst);
    std::fill(dst + length * h, dst + t * h, 0.0f);
  }
  a.padded_ready[i] = true;
}

void Encoder::ForwardLayer(const float* w, const Batch& batch, int layer, const float* input, LayerActivations& l) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  const int64_t n = rows_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float eps = config_.layer_norm_eps();
  const float hidden_p = config_.hidden_dropout_prob();
  const AttentionShape shape{batch_size_, seq_len_, h, config_.num_attention_heads(),
                             packed_ ? acts_->row_begin.data() : nullptr};

  matmul_forward(l.qkv.data(), input, w + p.qkv_weight.offset, w + p.qkv_bias.offset, n, h, 3 * h, precision_,
                 &packed_weights_);
  // Attention writes the real rows only; the spare ones stay zero for the products.
  std::fill(l.context.begin() + shape.rows() * h, l.context.begin() + n * h, 0.0f);
  attention_forward(l.context.data(), l.probs.data(), l.qkv.data(), batch.attention_mask.data(), shape,
                    DropoutAt(options_, config_.attention_probs_dropout_prob(), AttentionProbsStream(layer),
                              int64_t{config_.num_attention_heads()} * seq_len_ * seq_len_), precision_);
  // attention_sum = input + dropout(context · Woᵀ + bo)
  matmul_forward(l.attention_sum.data(), l.context.data(), w + p.attention_output_weight.offset,
                 w + p.attention_output_bias.offset, n, h, h, precision_, &packed_weights_);
  ForEachRun(DropoutAt(options_, hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h), h,
             [&](int64_t first, int64_t rows, const DropoutSpec& dropout) {
               ResidualNormForward(precision_, l.attention_out.data() + first * h, l.attention_mean.data() + first,
                                   l.attention_rstd.data() + first, l.attention_sum.data() + first * h,
                                   input + first * h, w + p.attention_norm_weight.offset,
                                   w + p.attention_norm_bias.offset, rows, h, eps, dropout);
             });
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
  ForEachRun(DropoutAt(options_, hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h), h,
             [&](int64_t first, int64_t rows, const DropoutSpec& dropout) {
               ResidualNormForward(precision_, l.output.data() + first * h, l.ffn_mean.data() + first,
                                   l.ffn_rstd.data() + first, l.ffn_sum.data() + first * h,
                                   l.attention_out.data() + first * h, w + p.ffn_norm_weight.offset,
                                   w + p.ffn_norm_bias.offset, rows, h, eps, dropout);
             });
}

void Encoder::Forward(const float* w, const Batch& batch, const StepOptions& options, bool pooled,
                      TokenLayout layout) {
  Resize(batch.batch_size, batch.seq_len);
  packed_weights_.Clear();  // the parameters may have changed since the last Forward
  options_ = options;
  pooled_ = pooled;
  LayOutRows(batch, layout);
  Activations& a = *acts_;
  const int64_t b = batch_size_, n = rows_;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();

  EmbeddingForward(w, batch);
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
  if (packed_) ScatterState(config_.num_hidden_layers());  // hidden(), for the heads
  if (!pooled) return;
  gather_rows_forward(a.cls_hidden.data(), hidden(), a.cls_rows.data(), b, h);
  matmul_forward(a.pooled_pre.data(), a.cls_hidden.data(), w + layout_.pooler_weight.offset,
                 w + layout_.pooler_bias.offset, b, h, h, precision_, &packed_weights_);
  tanh_forward(a.pooled.data(), a.pooled_pre.data(), b * h);
}

const float* Encoder::hidden() const {
  return packed_ ? acts_->padded_states.back().data() : acts_->layers.back().output.data();
}
const float* Encoder::pooled() const { return acts_->pooled.data(); }

std::span<const float> Encoder::hidden_state(int i) const {
  const Activations& a = *acts_;
  if (packed_) {
    if (!a.padded_ready[i]) ScatterState(i);
    return a.padded_states[i];
  }
  if (i > 0) return a.layers[i - 1].output;
  return IsAlbert(config_) ? a.projection : a.embedding_out;
}

float* Encoder::d_hidden() { return acts_->d_output.data(); }
float* Encoder::d_pooled() { return acts_->d_pooled.data(); }

void Encoder::ZeroOutputGradients() {
  std::fill(acts_->d_output.begin(), acts_->d_output.end(), 0.0f);
  std::fill(acts_->d_pooled.begin(), acts_->d_pooled.end(), 0.0f);
}

void Encoder::BackwardLayer(const float* w, float* g, int layer, const float* input, const LayerActivations& l,
                            float* dinput, float* doutput) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  Activations& a = *acts_;
  const int64_t n = rows_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float hidden_p = config_.hidden_dropout_prob();
  const AttentionShape shape{batch_size_, seq_len_, h, config_.num_attention_heads(),
                             packed_ ? a.row_begin.data() : nullptr};
  const int64_t capacity = int64_t{batch_size_} * seq_len_;
  for (auto* buffer : {&a.d_ffn_sum, &a.d_ffn_dense, &a.d_ffn_act, &a.d_ffn_pre, &a.d_attention_out,
                       &a.d_attention_sum, &a.d_attention_dense, &a.d_context, &a.d_qkv}) {
    ZeroRows(*buffer, n, capacity);
  }

  // The residual branch's gradient goes to d_attention_out, the dense branch's to d_ffn_dense.
  ForEachRun(DropoutAt(options_, hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h), h,
             [&](int64_t first, int64_t rows, const DropoutSpec& dropout) {
               ResidualNormBackward(precision_, a.d_ffn_dense.data() + first * h,
                                    a.d_attention_out.data() + first * h, a.d_ffn_sum.data() + first * h,
                                    g + p.ffn_norm_weight.offset, g + p.ffn_norm_bias.offset, doutput + first * h,
                                    l.ffn_sum.data() + first * h, w + p.ffn_norm_weight.offset,
                                    l.ffn_mean.data() + first, l.ffn_rstd.data() + first, rows, h, dropout);
             });
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

  ForEachRun(DropoutAt(options_, hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h), h,
             [&](int64_t first, int64_t rows, const DropoutSpec& dropout) {
               ResidualNormBackward(precision_, a.d_attention_dense.data() + first * h, dinput + first * h,
                                    a.d_attention_sum.data() + first * h, g + p.attention_norm_weight.offset,
                                    g + p.attention_norm_bias.offset, a.d_attention_out.data() + first * h,
                                    l.attention_sum.data() + first * h, w + p.attention_norm_weight.offset,
                                    l.attention_mean.data() + first, l.attention_rstd.data() + first, rows, h,
                                    dropout);
             });
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
  const int64_t b = batch_size_, n = rows_, capacity = b * seq_len_;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();
  const int layers = config_.num_hidden_layers();
  for (auto* buffer : {&a.d_pooled_pre, &a.d_cls}) std::fill(buffer->begin(), buffer->end(), 0.0f);
  for (auto* buffer : {&a.d_embedding_out, &a.d_embedding_norm, &a.d_embedding_sum}) ZeroRows(*buffer, n, capacity);

  // Pooler: tanh, dense, back to the [CLS] rows.
  if (pooled_) {
    tanh_backward(a.d_pooled_pre.data(), a.pooled.data(), a.d_pooled.data(), b * h);
    matmul_backward(a.d_cls.data(), g + layout_.pooler_weight.offset, g + layout_.pooler_bias.offset,
                    a.d_pooled_pre.data(), a.cls_hidden.data(), w + layout_.pooler_weight.offset, b, h, h, precision_,
                    &packed_weights_);
    gather_rows_backward(a.d_output.data(), a.d_cls.data(), a.cls_rows.data(), b, h);
  }
  // Packed: the real rows' gradients from the padded layout the heads wrote (zero at pads, which
  // the packed layout has not), the spare rows' zero.
  if (packed_) {
    gather_rows_forward(a.d_input.data(), a.d_output.data(), a.padded_row.data(), real_rows_, h);
    std::fill(a.d_input.begin() + real_rows_ * h, a.d_input.begin() + n * h, 0.0f);
    std::swap(a.d_input, a.d_output);
  }

  // Layers, last to first; d_output holds d(loss)/d(layer output).
  for (int layer = layers - 1; layer >= 0; --layer) {
    const float* input = layer > 0 ? a.layers[layer - 1].output.data()
                                   : (IsAlbert(config_) ? a.projection.data() : a.embedding_out.data());
    ZeroRows(a.d_input, n, capacity);
    BackwardLayer(w, g, layer, input, a.layers[layer], a.d_input.data(), a.d_output.data());
    std::swap(a.d_input, a.d_output);
  }

  // Embeddings; d_output is now d(loss)/d(encoder input). BERT has no projection (E = H).
  if (IsAlbert(config_)) {
    matmul_backward(a.d_embedding_out.data(), g + layout_.embedding_projection_weight.offset,
                    g + layout_.embedding_projection_bias.offset, a.d_output.data(), a.embedding_out.data(),
                    w + layout_.embedding_projection_weight.offset, n, e, h, precision_, &packed_weights_);
  }
  EmbeddingBackward(w, g, batch);
}

}  // namespace cloze
