// GpuModel on the CUDA ops: model.cc's computation, op for op, on device buffers. Read
// model.cc beside this file: every call here has its twin there, in the same order, with
// the same dropout streams, so the two stay easy to compare.
#include "model/gpu_model.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/activations.h"
#include "kernels/cuda/activations.h"
#include "kernels/cuda/attention.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/embedding.h"
#include "kernels/cuda/fused_attention.h"
#include "kernels/cuda/fused_attention_tc.h"
#include "kernels/cuda/gather.h"
#include "kernels/cuda/layernorm.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/residual_layernorm.h"
#include "kernels/cuda/device_array.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "model/heads/pretraining.h"
#include "model/losses.h"
#include "model/initialize.h"
#include "model/model_config.h"

namespace cloze {
namespace {

using cpu::Activation;
using cpu::AttentionShape;
using cpu::DropoutSpec;

uint64_t ClassifierStream(int layers) { return HeadStream(layers); }

// What one layer keeps from forward for backward (model.cc's LayerActivations).
// Attention keeps `probs` (unfused) or `lse` (fused), the other stays empty.
struct LayerActivations {
  DeviceArray<float> qkv, probs, lse, context, attention_sum, attention_mean, attention_rstd,
      attention_out, ffn_pre, ffn_act, ffn_sum, ffn_mean, ffn_rstd, output;
  // kBf16: the bf16 roundings of the four matmul inputs, made once in forward and read again
  // by the weight-gradient products in backward (empty in kFp32).
  DeviceArray<cuda::Bf16> input_bf16, context_bf16, attention_out_bf16, ffn_act_bf16;
};

// A matmul input: its fp32 values and, in kBf16, where its bf16 rounding lives. Forward
// (Linear) writes the rounding there, unless `ready` says the op that produced the values
// already did; backward (LinearBackward) reads the one forward left. Null: rounded into
// scratch at each use.
struct MatmulInput {
  MatmulInput(const float* values, cuda::Bf16* rounded = nullptr, bool ready = false)
      : values(values), rounded(rounded), ready(ready) {}
  const float* values;
  cuda::Bf16* rounded;
  bool ready;
};

// model.cc's Activations, plus what only the device needs: argmax rows for the accuracy
// counts, attention scratch, and bf16 staging for matmul inputs.
struct Activations {
  DeviceArray<float> embedding_sum, embedding_mean, embedding_rstd, embedding_norm, embedding_out;
  DeviceArray<cuda::Bf16> embedding_out_bf16;  // kBf16, ALBERT: the projection's input, rounded
  DeviceArray<float> projection;
  std::vector<LayerActivations> layers;
  DeviceArray<float> mlm_gathered, mlm_pre, mlm_act, mlm_mean, mlm_rstd, mlm_norm;
  DeviceArray<float> mlm_logits, mlm_probs, mlm_losses;
  DeviceArray<float> cls_hidden, pooled_pre, pooled, pooled_dropped;
  DeviceArray<float> sentence_logits, sentence_probs, sentence_losses;
  DeviceArray<int32_t> mlm_argmax, sentence_argmax;

  DeviceArray<float> d_output, d_input, d_ffn_dense, d_ffn_act, d_ffn_pre;
  DeviceArray<float> d_attention_out, d_attention_dense, d_context, d_qkv;
  DeviceArray<float> d_mlm_logits, d_mlm_norm, d_mlm_act, d_mlm_pre, d_mlm_gathered;
  DeviceArray<float> d_sentence_logits, d_pooled_dropped, d_pooled, d_pooled_pre, d_cls;
  DeviceArray<float> d_embedding_out, d_embedding_norm, d_embedding_sum;

  DeviceArray<float> attention_scratch;  // the unfused attention's, or fused backward's
  DeviceArray<float> bias_scratch;  // gpu::bias_gradient's partial sums
  DeviceArray<cuda::Bf16> bf16_inp, bf16_dout;  // kBf16 only
};

// The batch's integer tensors on the device, plus the [CLS] rows.
struct DeviceBatch {
  DeviceArray<int32_t> input_ids, token_type_ids, attention_mask, masked_positions,
      masked_labels, sentence_labels, cls_rows;
};

void Zero(DeviceArray<float>& a) { gpu::zero_bytes(a.get(), a.size() * sizeof(float)); }

class CudaGpuModel final : public GpuModel {
 public:
  CudaGpuModel(const ModelConfig& config, const GpuModelOptions& options,
               std::unique_ptr<cuda::BlasContext> blas)
      : config_(config),
        layout_(BuildEncoderLayout(config)),
        head_(config, layout_),
        model_options_(options),
        fuse_gelu_(options.fuse_gelu && ActivationOf(config) == Activation::kGeluTanh),
        blas_(std::move(blas)) {}

  absl::Status Allocate() {
    LayoutBuilder builder(layout_);
    head_.AddParameters(builder);
    const int64_t total = layout_.total_size;
    if (absl::Status s = parameters_.Resize(total, "parameters"); !s.ok()) return s;
    if (absl::Status s = gradients_.Resize(total, "gradients"); !s.ok()) return s;
    if (precision() == GpuPrecision::kBf16) {
      if (absl::Status s = parameters_bf16_.Resize(total, "bf16 parameters"); !s.ok()) return s;
    }
    gpu::zero_bytes(parameters_.get(), total * sizeof(float));
    gpu::zero_bytes(gradients_.get(), total * sizeof(float));
    return FromDeviceStatus(cuda::device_synchronize(), "zeroing the parameters");
  }

  const ModelConfig& config() const override { return config_; }
  const ParameterLayout& layout() const override { return layout_; }
  const HeadDefinition& head() const override { return head_; }
  const GpuModelOptions& options() const override { return model_options_; }
  float* parameters() override { return parameters_.get(); }
  float* gradients() override { return gradients_.get(); }

  absl::Status UploadParameters(std::span<const float> host) override {
    return parameters_.Upload(host, "GpuModel::UploadParameters");
  }
  absl::Status DownloadParameters(std::span<float> host) const override {
    return parameters_.Download(host, "GpuModel::DownloadParameters");
  }
  absl::Status DownloadGradients(std::span<float> host) const override {
    return gradients_.Download(host, "GpuModel::DownloadGradients");
  }

  absl::Status InitializeParameters(uint64_t seed) override {
    std::vector<float> host(layout_.total_size);
    InitializeParameterBuffer(layout_, config_, seed, host);
    return UploadParameters(host);
  }

  absl::Status ZeroGradients() override {
    gpu::zero_bytes(gradients_.get(), gradients_.size() * sizeof(float));
    return absl::OkStatus();
  }

  absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options) override;

  absl::Status Backward(float loss_scale) override {
    if (!has_forward_) return absl::FailedPreconditionError("GpuModel::Backward without a Forward");
    const int64_t mlm = losses_.mlm().count, sentence = losses_.sentence().count;
    return BackwardScaled(mlm > 0 ? loss_scale / mlm : 0.0f, sentence > 0 ? loss_scale / sentence : 0.0f);
  }
  absl::Status Backward(const LossNormalizer& normalizer) override {
    if (!has_forward_) return absl::FailedPreconditionError("GpuModel::Backward without a Forward");
    const std::array<float, kMaxLossTerms> scales = TermScales(head_.term_weights(), normalizer);
    return BackwardScaled(scales[kMlmTerm], scales[kSentenceTerm]);
  }

 private:
  absl::Status ResizeActivations(int batch_size, int seq_len, int predictions);
  absl::Status UploadBatch(const Batch& batch);
  absl::Status BackwardScaled(float mlm_scale, float sentence_scale);
  absl::Status ForwardLayer(int layer, const float* input, LayerActivations& l);
  absl::Status BackwardLayer(int layer, const float* input, LayerActivations& l, float* dinput,
                             float* doutput);

  // out (n, oc) = inp (n, c) · Wᵀ + bias with W the parameter tensor at `weight`.
  absl::Status Linear(float* out, MatmulInput inp, const TensorSlot& weight, const TensorSlot& bias,
                      int64_t n, int64_t c, int64_t oc, const char* what);
  // Adds the gradients of Linear: into dinp, and into the weight's and bias's gradients.
  // dout_bf16, where given, already holds dout rounded to bf16 (kBf16).
  absl::Status LinearBackward(float* dinp, const TensorSlot& weight, const TensorSlot& bias,
                              const float* dout, MatmulInput inp, int64_t n, int64_t c,
                              int64_t oc, const char* what, const cuda::Bf16* dout_bf16 = nullptr);
  // In kBf16, the bf16 rounding of inp for forward: written into inp.rounded (or scratch)
  // unless `ready` says it is there already.
  const cuda::Bf16* RoundedForForward(MatmulInput inp, int64_t size);
  // In kBf16, the bf16 rounding of inp for backward: the one forward left, or made now in scratch.
  const cuda::Bf16* Rounded(MatmulInput inp, int64_t size);
  // The feed-forward's first layer and activation: out = act(inp · Wᵀ + bias), keeping
  // pre = inp · Wᵀ + bias; in one cuBLASLt call with the GELU epilogue where fuse_gelu_.
  absl::Status LinearActivation(float* out, float* pre, MatmulInput inp, const TensorSlot& weight,
                                const TensorSlot& bias, int64_t n, int64_t c, int64_t oc, const char* what);
  // The feed-forward's second layer backward through the activation: the layer's weight and
  // bias gradients ADDED, and d_pre (n, c) OVERWRITTEN with d(inp) ⊙ act'(pre), inp being
  // the activation's output act(pre).
  absl::Status LinearActivationBackward(float* d_pre, float* d_act, const TensorSlot& weight,
                                        const TensorSlot& bias, const float* dout, MatmulInput act,
                                        const float* pre, int64_t n, int64_t c, int64_t oc, const char* what);
  // The layer's attention: context (and probs or lse) from qkv; backward ADDS into d_qkv from
  // d_context. The kernels GpuModelOptions and the precision choose (gpu_model.h).
  absl::Status AttentionForward(int layer, LayerActivations& l);
  absl::Status AttentionBackward(int layer, LayerActivations& l);
  DropoutSpec AttentionDropout(int layer) const;
  void ActivationForward(float* out, const float* inp, int64_t n);
  void ActivationBackward(float* dinp, const float* inp, const float* dout, int64_t n);

  DropoutSpec DropoutAt(float p, uint64_t stream, int64_t elements_per_example) const {
    return {.p = p,  // the caller applies options_.training
            .seed = options_.dropout_seed,
            .stream = stream,
            .first_index = static_cast<uint64_t>(options_.first_example * elements_per_example)};
  }

  ModelConfig config_;
  ParameterLayout layout_;
  PretrainingDefinition head_;  // its slots follow the encoder's in layout_
  GpuModelOptions model_options_;
  bool fuse_gelu_;          // the FFN's GELU (tanh) in cuBLASLt's epilogues
  std::unique_ptr<cuda::BlasContext> blas_;
  DeviceArray<float> parameters_, gradients_;
  DeviceArray<cuda::Bf16> parameters_bf16_;  // kBf16: parameters_ rounded at each Forward

  int batch_size_ = 0, seq_len_ = 0, predictions_ = 0;
  bool fused_attention_ = false;  // this batch's shape runs the fused attention
  Batch batch_;  // host copy: labels for the loss summary
  DeviceBatch device_batch_;
  StepOptions options_;
  Losses losses_;
  bool has_forward_ = false;
  Activations acts_;
};

absl::Status CudaGpuModel::ResizeActivations(int batch_size, int seq_len, int predictions) {
  batch_size_ = batch_size;
  seq_len_ = seq_len;
  predictions_ = predictions;
  const int64_t n = int64_t{batch_size} * seq_len, m = predictions, b = batch_size;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size(), v = config_.vocab_size();
  const int64_t heads = config_.num_attention_heads();
  const AttentionShape attention_shape{b, seq_len, h, heads};
  // The fused kernels where asked for and able; anything else runs unfused (gpu_model.h).
  fused_attention_ = model_options_.attention == GpuAttention::kFused &&
                     (precision() == GpuPrecision::kBf16 ? cuda::fused_attention_bf16_shape_error(attention_shape)
                                                        : cuda::fused_attention_shape_error(attention_shape))
                         .empty();
  const int64_t probs = fused_attention_ ? 0 : b * heads * seq_len * seq_len;
  const int64_t lse = fused_attention_ ? cuda::fused_attention_lse_floats(attention_shape) : 0;
  Activations& a = acts_;
  std::vector<std::pair<DeviceArray<float>*, int64_t>> sizes = {
      {&a.embedding_sum, n * e}, {&a.embedding_norm, n * e}, {&a.embedding_out, n * e},
      {&a.embedding_mean, n}, {&a.embedding_rstd, n},
      {&a.projection, IsAlbert(config_) ? n * h : 0},
      {&a.mlm_gathered, m * h}, {&a.mlm_pre, m * e}, {&a.mlm_act, m * e}, {&a.mlm_norm, m * e},
      {&a.mlm_mean, m}, {&a.mlm_rstd, m}, {&a.mlm_losses, m}, {&a.mlm_logits, m * v},
      {&a.mlm_probs, m * v},
      {&a.cls_hidden, b * h}, {&a.pooled_pre, b * h}, {&a.pooled, b * h}, {&a.pooled_dropped, b * h},
      {&a.sentence_logits, b * 2}, {&a.sentence_probs, b * 2}, {&a.sentence_losses, b},
      {&a.d_output, n * h}, {&a.d_input, n * h}, {&a.d_ffn_dense, n * h},
      {&a.d_attention_out, n * h}, {&a.d_attention_dense, n * h},
      {&a.d_context, n * h}, {&a.d_ffn_act, n * inner}, {&a.d_ffn_pre, n * inner},
      {&a.d_qkv, n * 3 * h}, {&a.d_mlm_logits, m * v}, {&a.d_mlm_norm, m * e},
      {&a.d_mlm_act, m * e}, {&a.d_mlm_pre, m * e}, {&a.d_mlm_gathered, m * h},
      {&a.d_sentence_logits, b * 2}, {&a.d_pooled_dropped, b * h}, {&a.d_pooled, b * h},
      {&a.d_pooled_pre, b * h}, {&a.d_cls, b * h}, {&a.d_embedding_out, n * e},
      {&a.d_embedding_norm, n * e}, {&a.d_embedding_sum, n * e},
      {&a.attention_scratch, fused_attention_                     ? cuda::fused_attention_backward_scratch_floats(attention_shape)
                             : precision() == GpuPrecision::kBf16 ? cuda::attention_bf16_scratch_floats(attention_shape)
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
    if (absl::Status s = buffer->Resize(size, "GpuModel activations"); !s.ok()) return s;
  }
  // The largest bias-gradient scratch of any matmul backward (n, oc) of the step.
  int64_t bias_scratch = 0;
  for (auto [rows, columns] : std::initializer_list<std::pair<int64_t, int64_t>>{
           {n, 3 * h}, {n, h}, {n, inner}, {m, e}, {m, v}, {b, h}, {b, 2}}) {
    bias_scratch = std::max(bias_scratch, gpu::bias_gradient_scratch_floats(rows, columns));
  }
  if (absl::Status s = a.bias_scratch.Resize(bias_scratch, "bias-gradient scratch"); !s.ok()) return s;
  if (absl::Status s = a.mlm_argmax.Resize(m, "GpuModel MLM argmax"); !s.ok()) return s;
  if (absl::Status s = a.sentence_argmax.Resize(b, "GpuModel sentence argmax"); !s.ok()) return s;
  if (precision() == GpuPrecision::kBf16) {
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
    // The largest matmul input (n, c) and output gradient (n, oc) of a step.
    const int64_t widest_input = std::max({n * e, n * h, n * inner, m * h, m * e, b * h});
    const int64_t widest_output = std::max({n * 3 * h, n * h, n * inner, m * e, m * v, b * h, b * 2});
    if (absl::Status s = a.bf16_inp.Resize(widest_input, "bf16 matmul inputs"); !s.ok()) return s;
    if (absl::Status s = a.bf16_dout.Resize(widest_output, "bf16 matmul gradients"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CudaGpuModel::UploadBatch(const Batch& batch) {
  DeviceBatch& d = device_batch_;
  std::vector<int32_t> cls_rows(batch.batch_size);
  for (int i = 0; i < batch.batch_size; ++i) cls_rows[i] = i * batch.seq_len;
  const std::pair<DeviceArray<int32_t>*, const std::vector<int32_t>*> fields[] = {
      {&d.input_ids, &batch.input_ids},
      {&d.token_type_ids, &batch.token_type_ids},
      {&d.attention_mask, &batch.attention_mask},
      {&d.masked_positions, &batch.masked_positions},
      {&d.masked_labels, &batch.masked_labels},
      {&d.sentence_labels, &batch.sentence_labels},
      {&d.cls_rows, &cls_rows},
  };
  for (auto [device, host] : fields) {
    if (absl::Status s = device->Resize(host->size(), "GpuModel batch"); !s.ok()) return s;
    if (absl::Status s = device->Upload(*host, "copying the batch to the device"); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status CudaGpuModel::Linear(float* out, MatmulInput inp, const TensorSlot& weight,
                                  const TensorSlot& bias, int64_t n, int64_t c, int64_t oc,
                                  const char* what) {
  const float* b = parameters_.get() + bias.offset;
  if (precision() == GpuPrecision::kFp32) {
    return FromDeviceStatus(
        cuda::matmul_forward(*blas_, out, inp.values, parameters_.get() + weight.offset, b, n, c, oc), what);
  }
  return FromDeviceStatus(cuda::matmul_forward_bf16(*blas_, out, RoundedForForward(inp, n * c),
                                                    parameters_bf16_.get() + weight.offset, b, n, c, oc),
                          what);
}

const cuda::Bf16* CudaGpuModel::RoundedForForward(MatmulInput inp, int64_t size) {
  if (inp.rounded != nullptr && inp.ready) return inp.rounded;
  cuda::Bf16* rounded = inp.rounded != nullptr ? inp.rounded : acts_.bf16_inp.get();
  cuda::float_to_bf16(rounded, inp.values, size);
  return rounded;
}

const cuda::Bf16* CudaGpuModel::Rounded(MatmulInput inp, int64_t size) {
  if (inp.rounded != nullptr) return inp.rounded;
  cuda::float_to_bf16(acts_.bf16_inp.get(), inp.values, size);
  return acts_.bf16_inp.get();
}

absl::Status CudaGpuModel::LinearBackward(float* dinp, const TensorSlot& weight, const TensorSlot& bias,
                                          const float* dout, MatmulInput inp, int64_t n, int64_t c,
                                          int64_t oc, const char* what, const cuda::Bf16* dout_bf16) {
  float* g = gradients_.get();
  // The bias gradient from the fp32 dout (in both precisions), by our faster column sum
  // rather than the matmul op's (gpu_model_kernels.h says why).
  if (n > 0 && c > 0 && oc > 0) gpu::bias_gradient(g + bias.offset, dout, n, oc, acts_.bias_scratch.get());
  if (precision() == GpuPrecision::kFp32) {
    return FromDeviceStatus(cuda::matmul_backward(*blas_, dinp, g + weight.offset, nullptr, dout, inp.values,
                                                  parameters_.get() + weight.offset, n, c, oc),
                            what);
  }
  if (dout_bf16 == nullptr) {
    cuda::float_to_bf16(acts_.bf16_dout.get(), dout, n * oc);
    dout_bf16 = acts_.bf16_dout.get();
  }
  return FromDeviceStatus(cuda::matmul_backward_bf16(*blas_, dinp, g + weight.offset, nullptr, dout_bf16,
                                                     Rounded(inp, n * c), parameters_bf16_.get() + weight.offset,
                                                     n, c, oc),
                          what);
}

absl::Status CudaGpuModel::LinearActivation(float* out, float* pre, MatmulInput inp, const TensorSlot& weight,
                                            const TensorSlot& bias, int64_t n, int64_t c, int64_t oc,
                                            const char* what) {
  if (!fuse_gelu_) {
    if (absl::Status s = Linear(pre, inp, weight, bias, n, c, oc, what); !s.ok()) return s;
    ActivationForward(out, pre, n * oc);
    return absl::OkStatus();
  }
  const float* b = parameters_.get() + bias.offset;
  if (precision() == GpuPrecision::kFp32) {
    return FromDeviceStatus(
        cuda::matmul_gelu_forward(*blas_, out, pre, inp.values, parameters_.get() + weight.offset, b, n, c, oc),
        what);
  }
  return FromDeviceStatus(cuda::matmul_gelu_forward_bf16(*blas_, out, pre, RoundedForForward(inp, n * c),
                                                         parameters_bf16_.get() + weight.offset, b, n, c, oc),
                          what);
}

absl::Status CudaGpuModel::LinearActivationBackward(float* d_pre, float* d_act, const TensorSlot& weight,
                                                    const TensorSlot& bias, const float* dout, MatmulInput act,
                                                    const float* pre, int64_t n, int64_t c, int64_t oc,
                                                    const char* what) {
  if (!fuse_gelu_) {
    // d_act and d_pre start at zero (BackwardLayer); both ops add, as on the CPU.
    if (absl::Status s = LinearBackward(d_act, weight, bias, dout, act, n, c, oc, what); !s.ok()) return s;
    ActivationBackward(d_pre, pre, d_act, n * c);
    return absl::OkStatus();
  }
  if (precision() == GpuPrecision::kFp32) {
    if (absl::Status s = LinearBackward(nullptr, weight, bias, dout, act, n, c, oc, what); !s.ok()) return s;
    return FromDeviceStatus(
        cuda::matmul_dgelu_backward(*blas_, d_pre, dout, parameters_.get() + weight.offset, pre, n, c, oc), what);
  }
  // dout rounded once, for the weight gradient and the input gradient alike.
  cuda::float_to_bf16(acts_.bf16_dout.get(), dout, n * oc);
  if (absl::Status s = LinearBackward(nullptr, weight, bias, dout, act, n, c, oc, what, acts_.bf16_dout.get());
      !s.ok()) {
    return s;
  }
  return FromDeviceStatus(cuda::matmul_dgelu_backward_bf16(*blas_, d_pre, acts_.bf16_dout.get(),
                                                           parameters_bf16_.get() + weight.offset, pre, n, c, oc),
                          what);
}

void CudaGpuModel::ActivationForward(float* out, const float* inp, int64_t n) {
  switch (ActivationOf(config_)) {
    case Activation::kGeluErf: return cuda::gelu_erf_forward(out, inp, n);
    case Activation::kGeluTanh: return cuda::gelu_tanh_forward(out, inp, n);
    case Activation::kRelu: return gpu::relu_forward(out, inp, n);
  }
}

void CudaGpuModel::ActivationBackward(float* dinp, const float* inp, const float* dout, int64_t n) {
  switch (ActivationOf(config_)) {
    case Activation::kGeluErf: return cuda::gelu_erf_backward(dinp, inp, dout, n);
    case Activation::kGeluTanh: return cuda::gelu_tanh_backward(dinp, inp, dout, n);
    case Activation::kRelu: return gpu::relu_backward(dinp, inp, dout, n);
  }
}

DropoutSpec CudaGpuModel::AttentionDropout(int layer) const {
  const float p = options_.training ? config_.attention_probs_dropout_prob() : 0.0f;
  return DropoutAt(p, AttentionProbsStream(layer), int64_t{config_.num_attention_heads()} * seq_len_ * seq_len_);
}

absl::Status CudaGpuModel::AttentionForward(int layer, LayerActivations& l) {
  const AttentionShape shape{batch_size_, seq_len_, config_.hidden_size(), config_.num_attention_heads()};
  const DropoutSpec dropout = AttentionDropout(layer);
  const int32_t* mask = device_batch_.attention_mask.get();
  float* scratch = acts_.attention_scratch.get();
  cuda::DeviceStatus status;
  if (fused_attention_ && precision() == GpuPrecision::kBf16) {
    status = cuda::fused_attention_forward_bf16(l.context.get(), l.lse.get(), l.qkv.get(), mask, shape, dropout);
  } else if (fused_attention_) {
    status = cuda::fused_attention_forward(l.context.get(), l.lse.get(), l.qkv.get(), mask, shape, dropout);
  } else if (precision() == GpuPrecision::kBf16) {
    status = cuda::attention_forward_bf16(*blas_, l.context.get(), l.probs.get(), l.qkv.get(), mask, shape,
                                          dropout, scratch);
  } else {
    status = cuda::attention_forward(*blas_, l.context.get(), l.probs.get(), l.qkv.get(), mask, shape, dropout,
                                     scratch);
  }
  return FromDeviceStatus(status, "attention forward");
}

absl::Status CudaGpuModel::AttentionBackward(int layer, LayerActivations& l) {
  const AttentionShape shape{batch_size_, seq_len_, config_.hidden_size(), config_.num_attention_heads()};
  const DropoutSpec dropout = AttentionDropout(layer);
  Activations& a = acts_;
  cuda::DeviceStatus status;
  if (fused_attention_ && precision() == GpuPrecision::kBf16) {
    status = cuda::fused_attention_backward_bf16(a.d_qkv.get(), a.d_context.get(), l.qkv.get(), l.context.get(),
                                                 l.lse.get(), device_batch_.attention_mask.get(), shape, dropout,
                                                 a.attention_scratch.get());
  } else if (fused_attention_) {
    status = cuda::fused_attention_backward(a.d_qkv.get(), a.d_context.get(), l.qkv.get(), l.context.get(),
                                            l.lse.get(), device_batch_.attention_mask.get(), shape, dropout,
                                            a.attention_scratch.get());
  } else if (precision() == GpuPrecision::kBf16) {
    status = cuda::attention_backward_bf16(*blas_, a.d_qkv.get(), a.d_context.get(), l.qkv.get(), l.probs.get(),
                                           shape, dropout, a.attention_scratch.get());
  } else {
    status = cuda::attention_backward(*blas_, a.d_qkv.get(), a.d_context.get(), l.qkv.get(), l.probs.get(), shape,
                                      dropout, a.attention_scratch.get());
  }
  return FromDeviceStatus(status, "attention backward");
}

absl::Status CudaGpuModel::ForwardLayer(int layer, const float* input, LayerActivations& l) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  const float* w = parameters_.get();
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float eps = config_.layer_norm_eps();
  const float hidden_p = options_.training ? config_.hidden_dropout_prob() : 0.0f;
  // kBf16: the sublayer tails round their outputs for the next matmul as they write them,
  // this layer's FFN input and the next layer's qkv input (layer 0's is rounded by Linear).
  const bool bf16 = precision() == GpuPrecision::kBf16;
  const bool last = layer + 1 == config_.num_hidden_layers();
  cuda::Bf16* next_input_bf16 = bf16 && !last ? acts_.layers[layer + 1].input_bf16.get() : nullptr;

  if (absl::Status s = Linear(l.qkv.get(), {input, l.input_bf16.get(), /*ready=*/layer > 0}, p.qkv_weight,
                              p.qkv_bias, n, h, 3 * h, "qkv forward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AttentionForward(layer, l); !s.ok()) return s;
  // attention_out = layernorm(input + dropout(context · Woᵀ + bo)), attention_sum kept
  if (absl::Status s = Linear(l.attention_sum.get(), {l.context.get(), l.context_bf16.get()},
                              p.attention_output_weight, p.attention_output_bias, n, h, h, "attention output forward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = FromDeviceStatus(
          cuda::dropout_residual_layernorm_forward(
              l.attention_out.get(), bf16 ? l.attention_out_bf16.get() : nullptr, l.attention_sum.get(),
              l.attention_mean.get(), l.attention_rstd.get(), l.attention_sum.get(), input,
              w + p.attention_norm_weight.offset, w + p.attention_norm_bias.offset, n, h, eps,
              DropoutAt(hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h)),
          "attention layer norm forward");
      !s.ok()) {
    return s;
  }
  // output = layernorm(attention_out + dropout(act(attention_out · W1ᵀ + b1) · W2ᵀ + b2))
  if (absl::Status s = LinearActivation(l.ffn_act.get(), l.ffn_pre.get(),
                                        {l.attention_out.get(), l.attention_out_bf16.get(), /*ready=*/true},
                                        p.ffn_weight, p.ffn_bias, n, h, inner, "ffn forward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = Linear(l.ffn_sum.get(), {l.ffn_act.get(), l.ffn_act_bf16.get()}, p.ffn_output_weight,
                              p.ffn_output_bias, n, inner, h, "ffn output forward");
      !s.ok()) {
    return s;
  }
  return FromDeviceStatus(
      cuda::dropout_residual_layernorm_forward(
          l.output.get(), next_input_bf16, l.ffn_sum.get(), l.ffn_mean.get(), l.ffn_rstd.get(), l.ffn_sum.get(),
          l.attention_out.get(), w + p.ffn_norm_weight.offset, w + p.ffn_norm_bias.offset, n, h, eps,
          DropoutAt(hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h)),
      "ffn layer norm forward");
}

absl::StatusOr<Losses> CudaGpuModel::Forward(const Batch& batch, const StepOptions& options) {
  if (absl::Status status = ValidateBatch(batch, config_); !status.ok()) return status;
  if (absl::Status s = ResizeActivations(batch.batch_size, batch.seq_len,
                                         static_cast<int>(batch.masked_positions.size()));
      !s.ok()) {
    return s;
  }
  if (absl::Status s = UploadBatch(batch); !s.ok()) return s;
  batch_ = batch;
  options_ = options;
  has_forward_ = false;  // until this pass succeeds
  Activations& a = acts_;
  const DeviceBatch& d = device_batch_;
  const float* w = parameters_.get();
  const int64_t b = batch_size_, t = seq_len_, n = b * t, m = predictions_;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size(), v = config_.vocab_size();
  const float eps = config_.layer_norm_eps();
  const float hidden_p = options.training ? config_.hidden_dropout_prob() : 0.0f;
  const float classifier_p = options.training ? config_.classifier_dropout_prob() : 0.0f;
  if (precision() == GpuPrecision::kBf16) {
    cuda::float_to_bf16(parameters_bf16_.get(), parameters_.get(), parameters_.size());
  }

  cuda::embedding_forward(a.embedding_sum.get(), d.input_ids.get(), d.token_type_ids.get(),
                          w + layout_.word_embeddings.offset, w + layout_.position_embeddings.offset,
                          w + layout_.token_type_embeddings.offset, b, t, e);
  cuda::layernorm_forward(a.embedding_norm.get(), a.embedding_mean.get(), a.embedding_rstd.get(),
                          a.embedding_sum.get(), w + layout_.embedding_norm_weight.offset,
                          w + layout_.embedding_norm_bias.offset, n, e, eps);
  cuda::dropout_forward(a.embedding_out.get(), a.embedding_norm.get(), n * e,
                        DropoutAt(hidden_p, kEmbeddingStream, t * e));
  const float* x = a.embedding_out.get();
  if (IsAlbert(config_)) {
    if (absl::Status s = Linear(a.projection.get(), {x, a.embedding_out_bf16.get()}, layout_.embedding_projection_weight,
                                layout_.embedding_projection_bias, n, e, h, "embedding projection forward");
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

  // MLM head at the masked positions; the decoder is the word-embedding matrix.
  cuda::gather_rows_forward(a.mlm_gathered.get(), x, d.masked_positions.get(), m, h);
  if (absl::Status s = Linear(a.mlm_pre.get(), a.mlm_gathered.get(), head_.mlm_dense_weight,
                              head_.mlm_dense_bias, m, h, e, "MLM dense forward");
      !s.ok()) {
    return s;
  }
  ActivationForward(a.mlm_act.get(), a.mlm_pre.get(), m * e);
  cuda::layernorm_forward(a.mlm_norm.get(), a.mlm_mean.get(), a.mlm_rstd.get(), a.mlm_act.get(),
                          w + head_.mlm_norm_weight.offset, w + head_.mlm_norm_bias.offset, m, e, eps);
  if (absl::Status s = Linear(a.mlm_logits.get(), a.mlm_norm.get(), layout_.word_embeddings,
                              head_.mlm_output_bias, m, e, v, "MLM decoder forward");
      !s.ok()) {
    return s;
  }
  cuda::softmax_cross_entropy_forward(a.mlm_losses.get(), a.mlm_probs.get(), a.mlm_logits.get(),
                                      d.masked_labels.get(), m, v);
  gpu::row_argmax(a.mlm_argmax.get(), a.mlm_logits.get(), m, v);

  // Sentence head: pooler on [CLS], then the two-way classifier.
  cuda::gather_rows_forward(a.cls_hidden.get(), x, d.cls_rows.get(), b, h);
  if (absl::Status s = Linear(a.pooled_pre.get(), a.cls_hidden.get(), layout_.pooler_weight,
                              layout_.pooler_bias, b, h, h, "pooler forward");
      !s.ok()) {
    return s;
  }
  gpu::tanh_forward(a.pooled.get(), a.pooled_pre.get(), b * h);
  cuda::dropout_forward(a.pooled_dropped.get(), a.pooled.get(), b * h,
                        DropoutAt(classifier_p, ClassifierStream(config_.num_hidden_layers()), h));
  if (absl::Status s = Linear(a.sentence_logits.get(), a.pooled_dropped.get(), head_.sentence_weight,
                              head_.sentence_bias, b, h, 2, "sentence classifier forward");
      !s.ok()) {
    return s;
  }
  cuda::softmax_cross_entropy_forward(a.sentence_losses.get(), a.sentence_probs.get(),
                                      a.sentence_logits.get(), d.sentence_labels.get(), b, 2);
  gpu::row_argmax(a.sentence_argmax.get(), a.sentence_logits.get(), b, 2);

  // The per-row losses and argmaxes come back (small); the sums are formed on the host in
  // the CPU's order.
  if (absl::Status s = FromDeviceStatus(cuda::device_synchronize(), "GpuModel::Forward"); !s.ok()) return s;
  std::vector<float> mlm_losses(m), sentence_losses(b);
  std::vector<int32_t> mlm_argmax(m), sentence_argmax(b);
  for (absl::Status s : {a.mlm_losses.Download(mlm_losses, "MLM losses"),
                         a.mlm_argmax.Download(mlm_argmax, "MLM argmax"),
                         a.sentence_losses.Download(sentence_losses, "sentence losses"),
                         a.sentence_argmax.Download(sentence_argmax, "sentence argmax")}) {
    if (!s.ok()) return s;
  }
  Losses losses;
  // The CPU model's sums, with the row argmax computed on the device.
  losses.terms[kMlmTerm] = SummarizeTerm(mlm_losses, mlm_argmax, batch_.masked_labels);
  losses.terms[kSentenceTerm] = SummarizeTerm(sentence_losses, sentence_argmax, batch_.sentence_labels);
  losses.total_loss = losses.terms[kMlmTerm].mean + losses.terms[kSentenceTerm].mean;
  losses_ = losses;
  has_forward_ = true;
  return losses;
}

absl::Status CudaGpuModel::BackwardLayer(int layer, const float* input, LayerActivations& l,
                                         float* dinput, float* doutput) {
  const LayerSlots& p = layout_.groups[GroupOfLayer(config_, layer)];
  const float* w = parameters_.get();
  float* g = gradients_.get();
  Activations& a = acts_;
  const int64_t n = int64_t{batch_size_} * seq_len_, h = config_.hidden_size();
  const int64_t inner = config_.intermediate_size();
  const float hidden_p = options_.training ? config_.hidden_dropout_prob() : 0.0f;
  // What the ops below ADD into (d_ffn_dense and d_attention_dense are overwritten, and so
  // is d_ffn_pre by the fused GELU, which leaves d_ffn_act unused; dinput is zeroed by the
  // caller).
  for (DeviceArray<float>* buffer : {&a.d_attention_out, &a.d_context, &a.d_qkv}) Zero(*buffer);
  if (!fuse_gelu_) {
    Zero(a.d_ffn_act);
    Zero(a.d_ffn_pre);
  }

  if (absl::Status s = FromDeviceStatus(
          cuda::dropout_residual_layernorm_backward(
              a.d_ffn_dense.get(), a.d_attention_out.get(), g + p.ffn_norm_weight.offset,
              g + p.ffn_norm_bias.offset, doutput, l.ffn_sum.get(), w + p.ffn_norm_weight.offset, l.ffn_mean.get(),
              l.ffn_rstd.get(), n, h, DropoutAt(hidden_p, FfnOutputStream(layer), int64_t{seq_len_} * h)),
          "ffn layer norm backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = LinearActivationBackward(a.d_ffn_pre.get(), a.d_ffn_act.get(), p.ffn_output_weight,
                                                p.ffn_output_bias, a.d_ffn_dense.get(),
                                                {l.ffn_act.get(), l.ffn_act_bf16.get()}, l.ffn_pre.get(), n, inner,
                                                h, "ffn output backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = LinearBackward(a.d_attention_out.get(), p.ffn_weight, p.ffn_bias, a.d_ffn_pre.get(),
                                      {l.attention_out.get(), l.attention_out_bf16.get()}, n, h, inner,
                                      "ffn backward");
      !s.ok()) {
    return s;
  }

  if (absl::Status s = FromDeviceStatus(
          cuda::dropout_residual_layernorm_backward(
              a.d_attention_dense.get(), dinput, g + p.attention_norm_weight.offset,
              g + p.attention_norm_bias.offset, a.d_attention_out.get(), l.attention_sum.get(),
              w + p.attention_norm_weight.offset, l.attention_mean.get(), l.attention_rstd.get(), n, h,
              DropoutAt(hidden_p, AttentionOutputStream(layer), int64_t{seq_len_} * h)),
          "attention layer norm backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = LinearBackward(a.d_context.get(), p.attention_output_weight, p.attention_output_bias,
                                      a.d_attention_dense.get(), {l.context.get(), l.context_bf16.get()}, n, h, h,
                                      "attention output backward");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = AttentionBackward(layer, l); !s.ok()) return s;
  return LinearBackward(dinput, p.qkv_weight, p.qkv_bias, a.d_qkv.get(), {input, l.input_bf16.get()}, n, h,
                        3 * h, "qkv backward");
}

absl::Status CudaGpuModel::BackwardScaled(float mlm_scale, float sentence_scale) {
  Activations& a = acts_;
  const DeviceBatch& d = device_batch_;
  const float* w = parameters_.get();
  float* g = gradients_.get();
  const int64_t b = batch_size_, t = seq_len_, n = b * t, m = predictions_;
  const int64_t e = config_.embedding_size(), h = config_.hidden_size(), v = config_.vocab_size();
  const int layers = config_.num_hidden_layers();
  const float hidden_p = options_.training ? config_.hidden_dropout_prob() : 0.0f;
  const float classifier_p = options_.training ? config_.classifier_dropout_prob() : 0.0f;

  for (DeviceArray<float>* buffer :
       {&a.d_output, &a.d_mlm_logits, &a.d_mlm_norm, &a.d_mlm_act, &a.d_mlm_pre, &a.d_mlm_gathered,
        &a.d_sentence_logits, &a.d_pooled_dropped, &a.d_pooled, &a.d_pooled_pre, &a.d_cls,
        &a.d_embedding_out, &a.d_embedding_norm, &a.d_embedding_sum}) {
    Zero(*buffer);
  }

  // Sentence head: classifier, dropout, tanh pooler, back to the [CLS] rows.
  if (losses_.sentence().count > 0) {
    cuda::softmax_cross_entropy_backward(a.d_sentence_logits.get(), a.sentence_probs.get(),
                                         d.sentence_labels.get(), b, 2, sentence_scale);
    if (absl::Status s = LinearBackward(a.d_pooled_dropped.get(), head_.sentence_weight, head_.sentence_bias,
                                        a.d_sentence_logits.get(), a.pooled_dropped.get(), b, h, 2,
                                        "sentence classifier backward");
        !s.ok()) {
      return s;
    }
    cuda::dropout_backward(a.d_pooled.get(), a.d_pooled_dropped.get(), b * h,
                           DropoutAt(classifier_p, ClassifierStream(layers), h));
    gpu::tanh_backward(a.d_pooled_pre.get(), a.pooled.get(), a.d_pooled.get(), b * h);
    if (absl::Status s = LinearBackward(a.d_cls.get(), layout_.pooler_weight, layout_.pooler_bias,
                                        a.d_pooled_pre.get(), a.cls_hidden.get(), b, h, h, "pooler backward");
        !s.ok()) {
      return s;
    }
    cuda::gather_rows_backward(a.d_output.get(), a.d_cls.get(), d.cls_rows.get(), b, h);
  }

  // MLM head: tied decoder, layer norm, activation, dense, back to the masked rows.
  if (losses_.mlm().count > 0) {
    cuda::softmax_cross_entropy_backward(a.d_mlm_logits.get(), a.mlm_probs.get(), d.masked_labels.get(), m, v,
                                         mlm_scale);
    if (absl::Status s = LinearBackward(a.d_mlm_norm.get(), layout_.word_embeddings, head_.mlm_output_bias,
                                        a.d_mlm_logits.get(), a.mlm_norm.get(), m, e, v, "MLM decoder backward");
        !s.ok()) {
      return s;
    }
    cuda::layernorm_backward(a.d_mlm_act.get(), g + head_.mlm_norm_weight.offset,
                             g + head_.mlm_norm_bias.offset, a.d_mlm_norm.get(), a.mlm_act.get(),
                             w + head_.mlm_norm_weight.offset, a.mlm_mean.get(), a.mlm_rstd.get(), m, e);
    ActivationBackward(a.d_mlm_pre.get(), a.mlm_pre.get(), a.d_mlm_act.get(), m * e);
    if (absl::Status s = LinearBackward(a.d_mlm_gathered.get(), head_.mlm_dense_weight, head_.mlm_dense_bias,
                                        a.d_mlm_pre.get(), a.mlm_gathered.get(), m, h, e, "MLM dense backward");
        !s.ok()) {
      return s;
    }
    cuda::gather_rows_backward(a.d_output.get(), a.d_mlm_gathered.get(), d.masked_positions.get(), m, h);
  }

  // Encoder layers, last to first; d_output holds d(loss)/d(layer output).
  for (int layer = layers - 1; layer >= 0; --layer) {
    const float* input = layer > 0 ? a.layers[layer - 1].output.get()
                                   : (IsAlbert(config_) ? a.projection.get() : a.embedding_out.get());
    Zero(a.d_input);
    if (absl::Status s = BackwardLayer(layer, input, a.layers[layer], a.d_input.get(), a.d_output.get());
        !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("layer ", layer, ": ", s.message()));
    }
    std::swap(a.d_input, a.d_output);
  }

  // Embeddings; d_output is now d(loss)/d(encoder input). BERT has no projection (E = H).
  const float* d_embedding_out = a.d_output.get();
  if (IsAlbert(config_)) {
    if (absl::Status s = LinearBackward(a.d_embedding_out.get(), layout_.embedding_projection_weight,
                                        layout_.embedding_projection_bias, a.d_output.get(),
                                        {a.embedding_out.get(), a.embedding_out_bf16.get()}, n, e, h,
                                        "embedding projection backward");
        !s.ok()) {
      return s;
    }
    d_embedding_out = a.d_embedding_out.get();
  }
  cuda::dropout_backward(a.d_embedding_norm.get(), d_embedding_out, n * e,
                         DropoutAt(hidden_p, kEmbeddingStream, t * e));
  cuda::layernorm_backward(a.d_embedding_sum.get(), g + layout_.embedding_norm_weight.offset,
                           g + layout_.embedding_norm_bias.offset, a.d_embedding_norm.get(),
                           a.embedding_sum.get(), w + layout_.embedding_norm_weight.offset,
                           a.embedding_mean.get(), a.embedding_rstd.get(), n, e);
  cuda::embedding_backward(g + layout_.word_embeddings.offset, g + layout_.position_embeddings.offset,
                           g + layout_.token_type_embeddings.offset, a.d_embedding_sum.get(),
                           d.input_ids.get(), d.token_type_ids.get(), b, t, e, config_.pad_token_id());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<GpuModel>> GpuModel::Create(const ModelConfig& config,
                                                           const GpuModelOptions& options) {
  if (const cuda::DeviceStatus usable = cuda::gpu_usable(); !usable.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("GpuModel: no usable GPU: ", usable.error));
  }
  std::unique_ptr<cuda::BlasContext> blas;
  if (absl::Status s = FromDeviceStatus(cuda::BlasContext::Create(&blas), "GpuModel: creating cuBLAS handles");
      !s.ok()) {
    return s;
  }
  auto model = std::make_unique<CudaGpuModel>(config, options, std::move(blas));
  if (absl::Status s = model->Allocate(); !s.ok()) return s;
  return std::unique_ptr<GpuModel>(std::move(model));
}

}  // namespace cloze
