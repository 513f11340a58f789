#include "model/gpu_encoder.h"

#include <initializer_list>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/embedding.h"
#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/fused_attention_tc.h"
#include "kernels/cuda/gather.h"
#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/residual_layernorm.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "model/model_config.h"

namespace cloze {

using cpu::AttentionShape;
using cpu::DropoutSpec;

// What one layer keeps from forward for backward (encoder.cc's LayerActivations).
// Attention keeps `probs` (unfused) or `lse` (fused), the other stays empty.
struct GpuEncoder::LayerActivations {
  DeviceArray<float> qkv, probs, lse, context, attention_sum, attention_mean, attention_rstd, attention_out, ffn_pre,
      ffn_act, ffn_sum, ffn_mean, ffn_rstd, output;
  // kBf16: the bf16 roundings of the four matmul inputs, made once in forward and read again
  // by the weight-gradient products in backward (empty in kFp32).
  DeviceArray<cuda::Bf16> input_bf16, context_bf16, attention_out_bf16, ffn_act_bf16;
};

// encoder.cc's Activations, plus the batch's inputs on the device and attention scratch.
struct GpuEncoder::Activations {
  DeviceArray<int32_t> input_ids, token_type_ids, attention_mask, cls_rows;
  DeviceArray<float> embedding_sum, embedding_mean, embedding_rstd, embedding_norm, embedding_out;
  DeviceArray<cuda::Bf16> embedding_out_bf16;  // kBf16, ALBERT: the projection's input, rounded
  DeviceArray<float> projection;
  std::vector<LayerActivations> layers;
  DeviceArray<float> cls_hidden, pooled_pre, pooled;

  DeviceArray<float> d_output, d_input, d_ffn_dense, d_ffn_act, d_ffn_pre;
  DeviceArray<float> d_attention_out, d_attention_dense, d_context, d_qkv;
  DeviceArray<float> d_pooled, d_pooled_pre, d_cls;
  DeviceArray<float> d_embedding_out, d_embedding_norm, d_embedding_sum;

  DeviceArray<float> attention_scratch;  // the unfused attention's, or fused backward's
};

GpuEncoder::GpuEncoder(GpuOps* ops, const ParameterLayout& layout)
    : ops_(ops), config_(ops->config()), layout_(layout), acts_(std::make_unique<Activations>()) {}

GpuEncoder::~GpuEncoder() = default;
GpuEncoder::GpuEncoder(GpuEncoder&&) noexcept = default;
GpuEncoder& GpuEncoder::operator=(GpuEncoder&&) noexcept = default;

absl::Status GpuEncoder::Resize(int batch_size, int seq_len) {
  batch_size_ = batch_size;
  seq_len_ = seq_len;
  const int64_t n = int64_t{batch_size} * seq_len, b = batch_size;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const int64_t heads = config_.num_attention_heads();
  const bool bf16 = ops_->bf16();
  const AttentionShape attention_shape{b, seq_len, h, heads};
  // The fused kernels where asked for and able; anything else runs unfused (gpu_model.h).
  fused_attention_ = ops_->options().attention == GpuAttention::kFused &&
                     (bf16 ? cuda::fused_attention_bf16_shape_error(attention_shape)
                           : cuda::fused_attention_shape_error(attention_shape))
                         .empty();
  const int64_t probs = fused_attention_ ? 0 : b * heads * seq_len * seq_len;
  const int64_t lse = fused_attention_ ? cuda::fused_attention_lse_floats(attention_shape) : 0;
  Activations& a = *acts_;
  std::vector<std::pair<DeviceArray<float>*, int64_t>> sizes = {
      {&a.embedding_sum, n * e}, {&a.embedding_norm, n * e}, {&a.embedding_out, n * e},
      {&a.embedding_mean, n}, {&a.embedding_rstd, n},
      {&a.projection, IsAlbert(config_) ? n * h : 0},
      {&a.cls_hidden, b * h}, {&a.pooled_pre, b * h}, {&a.pooled, b * h},
      {&a.d_output, n * h}, {&a.d_input, n * h}, {&a.d_ffn_dense, n * h},
      {&a.d_attention_out, n * h}, {&a.d_attention_dense, n * h},
      {&a.d_context, n * h}, {&a.d_ffn_act, n * inner}, {&a.d_ffn_pre, n * inner},
      {&a.d_qkv, n * 3 * h}, {&a.d_pooled, b * h}, {&a.d_pooled_pre, b * h}, {&a.d_cls, b * h},
      {&a.d_embedding_out, n * e}, {&a.d_embedding_norm, n * e}, {&a.d_embedding_sum, n * e},
      {&a.attention_scratch, fused_attention_ ? cuda::fused_attention_backward_scratch_floats(attention_shape)
                             : bf16           ? cuda::attention_bf16_scratch_floats(attention_shape)
                                              : cuda::attention_scratch_floats(attention_shape)},
  };
  a.layers.resize(config_.num_hidden_layers());
  for (LayerActivations& l : a.layers) {
    for (auto [buffer, size] : std::initializer_list<std::pair<DeviceArray<float>*, int64_t>>{
             {&l.qkv, n * 3 * h}, {&l.probs, probs}, {&l.lse, lse}, {&l.context, n * h},
             {&l.attention_sum, n * h}, {&l.attention_out, n * h}, {&l.ffn_sum, n * h},
             {&l.output, n * h}, {&l.attention_mean, n}, {&l.attention_rstd, n}, {&l.ffn_mean, n},
             {&l.ffn_rstd, n}, {&l.ffn_pre, n * inner}, {&l.ffn_act, n * inner}}) {
      sizes.emplace_back(buffer, size);
    }
  }
  for (auto [buffer, size] : sizes) {
    if (absl::Status s = buffer->Resize(size, "GpuEncoder activations"); !s.ok()) return s;
  }
  if (bf16) {
    if (absl::Status s = a.embedding_out_bf16.Resize(IsAlbert(config_) ? n * e : 0, "bf16 activations"); !s.ok()) {
      return s;
    }
    for (LayerActivations& l : a.layers) {
      for (auto [buffer, size] : std::initializer_list<std::pair<DeviceArray<cuda::Bf16>*, int64_t>>{
               {&l.input_bf16, n * h}, {&l.context_bf16, n * h}, {&l.attention_out_bf16, n * h},
               {&l.ffn_act_bf16, n * inner}}) {
        if (absl::Status s = buffer->Resize(size, "bf16 activations"); !s.ok()) return s;
      }
    }
  }
  // The encoder's products: projection, qkv, attention output, the two FFN layers, pooler.
  for (auto [rows, c, oc] : std::initializer_list<std::tuple<int64_t, int64_t, int64_t>>{
           {n, e, h}, {n, h, 3 * h}, {n, h, h}, {n, h, inner}, {n, inner, h}, {b, h, h}}) {
    if (absl::Status s = ops_->ReserveMatmul(rows, c, oc); !s.ok()) return s;
  }
  return absl::OkStatus();
}

DropoutSpec GpuEncoder::AttentionDropout(int layer) const {
  return DropoutAt(options_, config_.attention_probs_dropout_prob(), AttentionProbsStream(layer),
                   int64_t{config_.num_attention_heads()} * seq_len_ * seq_len_);
}

absl::Status GpuEncoder::AttentionForward(int layer, LayerActivations& l) {
  const AttentionShape shape{batch_size_, seq_len_, config_.hidden_size(), config_.num_attention_heads()};
  const DropoutSpec dropout = AttentionDropout(layer);
  const int32_t* mask = acts_->attention_mask.get();
  float* scratch = acts_->attention_scratch.get();
  cuda::DeviceStatus status;
  if (fused_attention_ && ops_->bf16()) {
    status = cuda::fused_attention_forward_bf16(l.context.get(), l.lse.get(), l.qkv.get(), mask, shape, dropout);
  } else if (fused_attention_) {
    status = cuda::fused_attention_forward(l.context.get(), l.lse.get(), l.qkv.get(), mask, shape, dropout);
  } else if (ops_->bf16()) {
    status = cuda::attention_forward_bf16(ops_->blas(), l.context.get(), l.probs.get(), l.qkv.get(), mask, shape,
                                          dropout, scratch);
  } else {
    status = cuda::attention_forward(ops_->blas(), l.context.get(), l.probs.get(), l.qkv.get(), mask, shape, dropout,
                                     scratch);
  }
  return FromDeviceStatus(status, "attention forward");
}

absl::Status GpuEncoder::AttentionBackward(int layer, LayerActivations& l) {
  const AttentionShape shape{batch_size_, seq_len_, config_.hidden_size(), config_.num_attention_heads()};
  const DropoutSpec dropout = AttentionDropout(layer);
  Activations& a = *acts_;
  cuda::DeviceStatus status;
  if (fused_attention_ && ops_->bf16()) {
    status = cuda::fused_attention_backward_bf16(a.d_qkv.get(), a.d_context.get(), l.qkv.get(), l.context.get(),
                                                 l.lse.get(), a.attention_mask.get(), shape, dropout,
                                                 a.attention_scratch.get());
  } else if (fused_attention_) {
    status = cuda::fused_attention_backward(a.d_qkv.get(), a.d_context.get(), l.qkv.get(), l.context.get(),
                                            l.lse.get(), a.attention_mask.get(), shape, dropout,
                                            a.attention_scratch.get());
  } else if (ops_->bf16()) {
    status = cuda::attention_backward_bf16(ops_->blas(), a.d_qkv.get(), a.d_context.get(), l.qkv.get(),
                                           l.probs.get(), shape, dropout, a.attention_scratch.get());
  } else {
    status = cuda::attention_backward(ops_->blas(), a.d_qkv.get(), a.d_context.get(), l.qkv.get(), l.probs.get(),
                                      shape, dropout, a.attention_scratch.get());
  }
  return FromDeviceStatus(status, "attention backward");
}

absl::Status GpuEncoder::ForwardLayer(int layer, const float* input, LayerActivations& l) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  GpuOps& ops = *ops_;
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float eps = config_.layer_norm_eps();
  const float hidden_p = config_.hidden_dropout_prob();
  // kBf16: the sublayer tails round their outputs for the next matmul as they write them,
  // this layer's FFN input and the next layer's qkv input (layer 0's is rounded by Linear).
  const bool bf16 = ops.bf16();
  const bool last = layer + 1 == config_.num_hidden_layers();
  cuda::Bf16* next_input_bf16 = bf16 && !last ? acts_->layers[layer + 1].input_bf16.get() : nullptr;

  if (absl::Status s = ops.Linear(l.qkv.get(), {input, l.input_bf16.get(), /*ready=*/layer > 0}, p.qkv_weight,
                                  p.qkv_bias, n, h, 3 * h, "qkv forward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AttentionForward(layer, l); !s.ok()) return s;
  // attention_out = layernorm(input + dropout(context · Woᵀ + bo)), attention_sum kept
  if (absl::Status s = ops.Linear(l.attention_sum.get(), {l.context.get(), l.context_bf16.get()},
                                  p.attention_output_weight, p.attention_output_bias, n, h, h,
                                  "attention output forward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = FromDeviceStatus(
          cuda::dropout_residual_layernorm_forward(
              l.attention_out.get(), bf16 ? l.attention_out_bf16.get() : nullptr, l.attention_sum.get(),
              l.attention_mean.get(), l.attention_rstd.get(), l.attention_sum.get(), input,
              ops.w(p.attention_norm_weight), ops.w(p.attention_norm_bias), n, h, eps,
              DropoutAt(options_, hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h)),
          "attention layer norm forward");
      !s.ok()) {
    return s;
  }
  // output = layernorm(attention_out + dropout(act(attention_out · W1ᵀ + b1) · W2ᵀ + b2))
  if (absl::Status s = ops.LinearActivation(l.ffn_act.get(), l.ffn_pre.get(),
                                            {l.attention_out.get(), l.attention_out_bf16.get(), /*ready=*/true},
                                            p.ffn_weight, p.ffn_bias, n, h, inner, "ffn forward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ops.Linear(l.ffn_sum.get(), {l.ffn_act.get(), l.ffn_act_bf16.get()}, p.ffn_output_weight,
                                  p.ffn_output_bias, n, inner, h, "ffn output forward");
      !s.ok()) {
    return s;
  }
  return FromDeviceStatus(
      cuda::dropout_residual_layernorm_forward(
          l.output.get(), next_input_bf16, l.ffn_sum.get(), l.ffn_mean.get(), l.ffn_rstd.get(), l.ffn_sum.get(),
          l.attention_out.get(), ops.w(p.ffn_norm_weight), ops.w(p.ffn_norm_bias), n, h, eps,
          DropoutAt(options_, hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h)),
      "ffn layer norm forward");
}

absl::Status GpuEncoder::Forward(const Batch& batch, const StepOptions& options, bool pooled) {
  if (absl::Status s = Resize(batch.batch_size, batch.seq_len); !s.ok()) return s;
  options_ = options;
  pooled_ = pooled;
  Activations& a = *acts_;
  GpuOps& ops = *ops_;
  std::vector<int32_t> cls_rows(batch.batch_size);
  for (int i = 0; i < batch.batch_size; ++i) cls_rows[i] = i * batch.seq_len;
  const std::pair<DeviceArray<int32_t>*, const std::vector<int32_t>*> fields[] = {
      {&a.input_ids, &batch.input_ids},
      {&a.token_type_ids, &batch.token_type_ids},
      {&a.attention_mask, &batch.attention_mask},
      {&a.cls_rows, &cls_rows},
  };
  for (auto [device, host] : fields) {
    if (absl::Status s = device->Resize(host->size(), "GpuEncoder inputs"); !s.ok()) return s;
    if (absl::Status s = device->Upload(*host, "copying the batch to the device"); !s.ok()) return s;
  }
  const int64_t b = batch_size_, t = seq_len_, n = b * t;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();

  cuda::embedding_forward(a.embedding_sum.get(), a.input_ids.get(), a.token_type_ids.get(),
                          ops.w(layout_.word_embeddings), ops.w(layout_.position_embeddings),
                          ops.w(layout_.token_type_embeddings), b, t, e);
  cuda::layernorm_forward(a.embedding_norm.get(), a.embedding_mean.get(), a.embedding_rstd.get(),
                          a.embedding_sum.get(), ops.w(layout_.embedding_norm_weight),
                          ops.w(layout_.embedding_norm_bias), n, e, config_.layer_norm_eps());
  cuda::dropout_forward(a.embedding_out.get(), a.embedding_norm.get(), n * e,
                        DropoutAt(options_, config_.hidden_dropout_prob(), kEmbeddingStream, t * e));
  const float* x = a.embedding_out.get();
  if (IsAlbert(config_)) {
    if (absl::Status s = ops.Linear(a.projection.get(), {x, a.embedding_out_bf16.get()},
                                    layout_.embedding_projection_weight, layout_.embedding_projection_bias, n, e, h,
                                    "embedding projection forward");
        !s.ok()) {
      return s;
    }
    x = a.projection.get();
  }
  for (int layer = 0; layer < config_.num_hidden_layers(); ++layer) {
    if (absl::Status s = ForwardLayer(layer, x, a.layers[layer]); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("layer ", layer, ": ", s.message()));
    }
    x = a.layers[layer].output.get();
  }
  if (!pooled) return absl::OkStatus();
  cuda::gather_rows_forward(a.cls_hidden.get(), x, a.cls_rows.get(), b, h);
  if (absl::Status s = ops.Linear(a.pooled_pre.get(), a.cls_hidden.get(), layout_.pooler_weight, layout_.pooler_bias,
                                  b, h, h, "pooler forward");
      !s.ok()) {
    return s;
  }
  gpu::tanh_forward(a.pooled.get(), a.pooled_pre.get(), b * h);
  return absl::OkStatus();
}

const float* GpuEncoder::hidden() const { return acts_->layers.back().output.get(); }
const float* GpuEncoder::pooled() const { return acts_->pooled.get(); }

const float* GpuEncoder::hidden_state(int i) const {
  const Activations& a = *acts_;
  if (i > 0) return a.layers[i - 1].output.get();
  return IsAlbert(config_) ? a.projection.get() : a.embedding_out.get();
}

float* GpuEncoder::d_hidden() { return acts_->d_output.get(); }
float* GpuEncoder::d_pooled() { return acts_->d_pooled.get(); }

void GpuEncoder::ZeroOutputGradients() {
  ZeroDeviceArray(acts_->d_output);
  ZeroDeviceArray(acts_->d_pooled);
}

absl::Status GpuEncoder::BackwardLayer(int layer, const float* input, LayerActivations& l, float* dinput,
                                       float* doutput) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  GpuOps& ops = *ops_;
  Activations& a = *acts_;
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float hidden_p = config_.hidden_dropout_prob();
  // What the ops below ADD into (d_ffn_dense and d_attention_dense are overwritten, and so
  // is d_ffn_pre by the fused GELU, which leaves d_ffn_act unused; dinput is zeroed by the
  // caller).
  for (DeviceArray<float>* buffer : {&a.d_attention_out, &a.d_context, &a.d_qkv}) ZeroDeviceArray(*buffer);
  if (!ops.fuse_gelu()) {
    ZeroDeviceArray(a.d_ffn_act);
    ZeroDeviceArray(a.d_ffn_pre);
  }

  if (absl::Status s = FromDeviceStatus(
          cuda::dropout_residual_layernorm_backward(
              a.d_ffn_dense.get(), a.d_attention_out.get(), ops.g(p.ffn_norm_weight), ops.g(p.ffn_norm_bias),
              doutput, l.ffn_sum.get(), ops.w(p.ffn_norm_weight), l.ffn_mean.get(), l.ffn_rstd.get(), n, h,
              DropoutAt(options_, hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h)),
          "ffn layer norm backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ops.LinearActivationBackward(a.d_ffn_pre.get(), a.d_ffn_act.get(), p.ffn_output_weight,
                                                    p.ffn_output_bias, a.d_ffn_dense.get(),
                                                    {l.ffn_act.get(), l.ffn_act_bf16.get()}, l.ffn_pre.get(), n,
                                                    inner, h, "ffn output backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ops.LinearBackward(a.d_attention_out.get(), p.ffn_weight, p.ffn_bias, a.d_ffn_pre.get(),
                                          {l.attention_out.get(), l.attention_out_bf16.get()}, n, h, inner,
                                          "ffn backward");
      !s.ok()) {
    return s;
  }

  if (absl::Status s = FromDeviceStatus(
          cuda::dropout_residual_layernorm_backward(
              a.d_attention_dense.get(), dinput, ops.g(p.attention_norm_weight), ops.g(p.attention_norm_bias),
              a.d_attention_out.get(), l.attention_sum.get(), ops.w(p.attention_norm_weight),
              l.attention_mean.get(), l.attention_rstd.get(), n, h,
              DropoutAt(options_, hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h)),
          "attention layer norm backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ops.LinearBackward(a.d_context.get(), p.attention_output_weight, p.attention_output_bias,
                                          a.d_attention_dense.get(), {l.context.get(), l.context_bf16.get()}, n, h,
                                          h, "attention output backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AttentionBackward(layer, l); !s.ok()) return s;
  return ops.LinearBackward(dinput, p.qkv_weight, p.qkv_bias, a.d_qkv.get(), {input, l.input_bf16.get()}, n, h,
                            3 * h, "qkv backward");
}

absl::Status GpuEncoder::Backward() {
  Activations& a = *acts_;
  GpuOps& ops = *ops_;
  const int64_t b = batch_size_, t = seq_len_, n = b * t;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();
  const int layers = config_.num_hidden_layers();
  for (DeviceArray<float>* buffer :
       {&a.d_pooled_pre, &a.d_cls, &a.d_embedding_out, &a.d_embedding_norm, &a.d_embedding_sum}) {
    ZeroDeviceArray(*buffer);
  }

  // Pooler: tanh, dense, back to the [CLS] rows.
  if (pooled_) {
    gpu::tanh_backward(a.d_pooled_pre.get(), a.pooled.get(), a.d_pooled.get(), b * h);
    if (absl::Status s = ops.LinearBackward(a.d_cls.get(), layout_.pooler_weight, layout_.pooler_bias,
                                            a.d_pooled_pre.get(), a.cls_hidden.get(), b, h, h, "pooler backward");
        !s.ok()) {
      return s;
    }
    cuda::gather_rows_backward(a.d_output.get(), a.d_cls.get(), a.cls_rows.get(), b, h);
  }

  // Layers, last to first; d_output holds d(loss)/d(layer output).
  for (int layer = layers - 1; layer >= 0; --layer) {
    const float* input = layer > 0 ? a.layers[layer - 1].output.get()
                                   : (IsAlbert(config_) ? a.projection.get() : a.embedding_out.get());
    ZeroDeviceArray(a.d_input);
    if (absl::Status s = BackwardLayer(layer, input, a.layers[layer], a.d_input.get(), a.d_output.get()); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("layer ", layer, ": ", s.message()));
    }
    std::swap(a.d_input, a.d_output);
  }

  // Embeddings; d_output is now d(loss)/d(encoder input). BERT has no projection (E = H).
  const float* d_embedding_out = a.d_output.get();
  if (IsAlbert(config_)) {
    if (absl::Status s = ops.LinearBackward(a.d_embedding_out.get(), layout_.embedding_projection_weight,
                                            layout_.embedding_projection_bias, a.d_output.get(),
                                            {a.embedding_out.get(), a.embedding_out_bf16.get()}, n, e, h,
                                            "embedding projection backward");
        !s.ok()) {
      return s;
    }
    d_embedding_out = a.d_embedding_out.get();
  }
  cuda::dropout_backward(a.d_embedding_norm.get(), d_embedding_out, n * e,
                         DropoutAt(options_, config_.hidden_dropout_prob(), kEmbeddingStream, t * e));
  cuda::layernorm_backward(a.d_embedding_sum.get(), ops.g(layout_.embedding_norm_weight),
                           ops.g(layout_.embedding_norm_bias), a.d_embedding_norm.get(), a.embedding_sum.get(),
                           ops.w(layout_.embedding_norm_weight), a.embedding_mean.get(), a.embedding_rstd.get(), n,
                           e);
  cuda::embedding_backward(ops.g(layout_.word_embeddings), ops.g(layout_.position_embeddings),
                           ops.g(layout_.token_type_embeddings), a.d_embedding_sum.get(), a.input_ids.get(),
                           a.token_type_ids.get(), b, t, e, config_.pad_token_id());
  return absl::OkStatus();
}

}  // namespace cloze
