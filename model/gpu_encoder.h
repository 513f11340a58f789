// The CUDA twin of trainer/encoder.h: embeddings (with ALBERT's E→H projection), the
// transformer layers (ALBERT's shared groups) and the pooler on [CLS], op for op as the
// CPU encoder, on device buffers, through the model's op context (gpu_linear.h) and
// kernels/cuda. Read encoder.cc beside gpu_encoder.cc: every call has its twin there, in
// the same order, with the same dropout streams (trainer/step_options.h).
//
// The GPU differences (gpu_model.h): each sublayer's tail (dropout, residual add, layer
// norm) is one fused kernel each way; attention runs unfused or flash-style as the
// options say; in kBf16 each layer's four matmul inputs are rounded once in forward and
// the rounding kept for backward. The last layer's output has no kept rounding: a head's
// products round it in scratch at each use.
//
// Forward keeps every layer's output (hidden_state(i), device memory). Backward takes
// what heads added into d_hidden() and d_pooled() and adds the encoder's parameter
// gradients. Not thread-safe; Backward must follow a Forward.
#ifndef CLOZE_MODEL_GPU_ENCODER_H_
#define CLOZE_MODEL_GPU_ENCODER_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"
#include "model/batch.h"
#include "model/gpu_linear.h"
#include "model/parameter_layout.h"
#include "model/step_options.h"

namespace cloze {

class GpuEncoder {
 public:
  // `ops` outlives the encoder; `layout` holds the encoder's slots.
  GpuEncoder(GpuOps* ops, const ParameterLayout& layout);
  ~GpuEncoder();
  GpuEncoder(GpuEncoder&&) noexcept;
  GpuEncoder& operator=(GpuEncoder&&) noexcept;

  // Copies the inputs of `batch` (validated by the caller: ValidateInputs) to the device and
  // runs on them; with `pooled`, also the pooler. The parameters' bf16 rounding must be
  // current (GpuOps::RoundParameters). Enqueues work; Internal naming the op on a device
  // error, ResourceExhausted when activations do not fit.
  absl::Status Forward(const Batch& batch, const StepOptions& options, bool pooled);

  int batch_size() const { return batch_size_; }
  int seq_len() const { return seq_len_; }
  // DEVICE (B·T, H): the last layer's output.
  const float* hidden() const;
  // DEVICE (B, H): the pooled [CLS] of the last Forward that asked for it.
  const float* pooled() const;
  // DEVICE (B·T, H): 0 = the embeddings as the first layer sees them (after ALBERT's
  // projection), i = layer i's output (1 ≤ i ≤ num_hidden_layers).
  const float* hidden_state(int i) const;

  // DEVICE: where heads add d(loss)/d(hidden) and d(loss)/d(pooled); ZeroOutputGradients
  // zeroes both.
  float* d_hidden();
  float* d_pooled();
  void ZeroOutputGradients();
  // Adds d(loss)/d(parameters) into the gradients from d_hidden() and d_pooled() (the
  // pooler's backward runs only when the last Forward pooled).
  absl::Status Backward();

 private:
  struct Activations;
  struct LayerActivations;

  absl::Status Resize(int batch_size, int seq_len);
  absl::Status ForwardLayer(int layer, const float* input, LayerActivations& l);
  absl::Status BackwardLayer(int layer, const float* input, LayerActivations& l, float* dinput, float* doutput);
  absl::Status AttentionForward(int layer, LayerActivations& l);
  absl::Status AttentionBackward(int layer, LayerActivations& l);
  cpu::DropoutSpec AttentionDropout(int layer) const;

  GpuOps* ops_;
  ModelConfig config_;
  ParameterLayout layout_;
  int batch_size_ = 0, seq_len_ = 0;
  bool pooled_ = false;
  bool fused_attention_ = false;  // this batch's shape runs the fused attention
  StepOptions options_;
  std::unique_ptr<Activations> acts_;
};

}  // namespace cloze

#endif  // CLOZE_MODEL_GPU_ENCODER_H_
