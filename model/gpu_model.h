// The model of model.h on one GPU: the encoder (gpu_encoder.h, the twin of encoder.h) and
// one head (gpu_head.h, the twins of trainer/heads/: pretraining by default, sequence
// classification or regression, token classification, span extraction), with the same
// interface and the same computation, op for op, on device buffers (kernels/cuda and
// gpu_model_kernels.h). Encoder and head share one op context (gpu_linear.h): the
// parameter and gradient buffers, cuBLAS, and the precision and fusion options below,
// which therefore apply to the head's products exactly as to the encoder's.
//
// Parameters and gradients are two flat DEVICE float buffers with the CPU Model's
// ParameterLayout for the same head, so the optimizer, clipping, checkpoints and gradient
// sync see one range each, as on the CPU. Forward copies the batch to the device, runs the
// CPU Model's ops in its order with its dropout streams and first_example offsets (so a
// step's masks are the CPU's bit for bit), and returns the same Losses (summed on the host
// in the CPU's order); Backward adds the same gradients. Embedding and gather backward use
// atomics, so gradients are not bit-deterministic run to run (a few ulp), unlike the CPU's.
//
// Precision:
//   kFp32: every op in fp32 (cuBLASLt without TF32): the CPU's results within float
//          rounding (gpu_step_test: 1e-4 relative after three training steps).
//   kBf16: matmul inputs (activations, weights, output gradients) rounded to bf16, fp32
//          accumulation, fp32 master weights, gradients and outputs. Activations are
//          computed in fp32; each encoder layer's four matmul inputs (its input, the
//          attention context, the attention block's output, the FFN activation) are
//          rounded to bf16 once in forward (the layer-norm tails write theirs as they
//          write the fp32 values) and that rounding is kept for backward's weight
//          gradients; other matmul inputs (the heads' included: the last layer's output
//          and everything after it) are rounded in scratch at each use. The unfused
//          attention's four products take bf16 operands too (softmax stays fp32). Not yet
//          the bf16-only activations issue 6 asks for: the bf16 copies come on top of the
//          fp32 ones (+2 bytes per element of those four tensors).
//
// Each sublayer's tail (dropout, residual add, layer norm) is one fused kernel each way
// (kernels/cuda/residual_layernorm.h), equal bit for bit to the separate ops.
//
// Kernels (GpuModelOptions):
//   attention  kUnfused: cuBLAS batched GEMMs around a masked-softmax kernel, keeping the
//              (B, NH, T, T) probabilities for backward (kernels/cuda/attention.h).
//              kFused: one flash-style kernel that keeps only each row's log-sum-exp and
//              recomputes the probabilities in backward: fp32 on CUDA cores in kFp32
//              (kernels/cuda/fused_attention.h), bf16 operands on tensor cores (WMMA) with
//              fp32 softmax and accumulation in kBf16 (fused_attention_tc.h). Head dims
//              they do not support (other than 64, 128) fall back to kUnfused. Same dropout
//              masks.
//   fuse_gelu  the feed-forward's bias + GELU (tanh form, ALBERT's gelu_new) in cuBLASLt's
//              epilogue, and its derivative in the epilogue of the gradient product;
//              other activations run as separate kernels whatever this says, and so does
//              the MLM head's transform (its activation feeds a layer norm, not a matmul).
// Both are encoder choices: heads have no attention, and their products run through the
// same Linear as the encoder's, so the precision is the only option they see.
//
// Errors: Create fails (FailedPrecondition) where CUDA is not built or no GPU is usable,
// (InvalidArgument) for an unusable head spec, and (ResourceExhausted/Internal) when device
// memory or cuBLAS setup fails. Forward returns InvalidArgument for a bad batch
// (ValidateInputs and the head's ValidateLabels, as Model::Forward; the model is unchanged) and
// Internal naming the op when a device call fails; Backward and the copies likewise.
// After an Internal error the model's state is undefined.
//
// Not thread-safe: one GpuModel per host thread, all work on the default stream of the
// current device. Parameter and gradient pointers stay valid for the model's lifetime.
#ifndef CLOZE_MODEL_GPU_MODEL_H_
#define CLOZE_MODEL_GPU_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "model/batch.h"
#include "model/head.h"
#include "model/head_spec.h"
#include "model/losses.h"
#include "model/step_options.h"
#include "model/parameter_layout.h"

namespace cloze {

enum class GpuPrecision {
  kFp32,
  kBf16,  // bf16 matmul inputs, fp32 accumulation and master weights (see above)
};

enum class GpuAttention { kUnfused, kFused };

struct GpuModelOptions {
  GpuPrecision precision = GpuPrecision::kBf16;
  GpuAttention attention = GpuAttention::kUnfused;
  bool fuse_gelu = true;
};

class GpuModel {
 public:
  // The model with `head` (pretraining by default) on the encoder. `config` must be valid
  // (ValidateModelConfig). Parameters and gradients start at zero.
  static absl::StatusOr<std::unique_ptr<GpuModel>> Create(const ModelConfig& config,
                                                          const GpuModelOptions& options,
                                                          const HeadSpec& head = {});
  virtual ~GpuModel() = default;

  virtual const ModelConfig& config() const = 0;
  virtual const ParameterLayout& layout() const = 0;
  virtual const HeadDefinition& head() const = 0;
  virtual const GpuModelOptions& options() const = 0;
  GpuPrecision precision() const { return options().precision; }

  // DEVICE pointers to layout().total_size floats each.
  virtual float* parameters() = 0;
  virtual float* gradients() = 0;

  // Host <-> device copies of the whole buffers; spans must hold layout().total_size
  // floats (InvalidArgument otherwise). Downloads wait for queued work.
  virtual absl::Status UploadParameters(std::span<const float> host) = 0;
  virtual absl::Status DownloadParameters(std::span<float> host) const = 0;
  virtual absl::Status DownloadGradients(std::span<float> host) const = 0;

  // Model::InitializeParameters's values (computed on the host, then uploaded).
  virtual absl::Status InitializeParameters(uint64_t seed) = 0;
  virtual absl::Status ZeroGradients() = 0;

  // As Model::Forward; waits for the device (the losses are needed on the host).
  virtual absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options) = 0;

  // As Model::Backward: adds the gradient of the last successful Forward into
  // gradients(). FailedPrecondition without a Forward. Enqueues work; device faults
  // surface at the next call that waits (a download, Forward, the optimizer's norm).
  virtual absl::Status Backward(float loss_scale = 1.0f) = 0;
  virtual absl::Status Backward(const LossNormalizer& normalizer) = 0;

  // The rows each loss term of `batch` counts, for the step's normalizer.
  PredictionCounts CountPredictions(const Batch& batch) const { return head().CountPredictions(batch); }

  // After a successful Forward, copied to the host (waiting for the device): the head's
  // logits (Head::logits's outputs and shapes) and the encoder's hidden states (B·T, H):
  // 0 = the embeddings as the first layer sees them, i = layer i's output. FailedPrecondition
  // without a Forward, InvalidArgument for an output or layer that does not exist.
  virtual absl::StatusOr<std::vector<float>> logits(int output = 0) const = 0;
  virtual absl::StatusOr<std::vector<float>> hidden_state(int i) const = 0;
};

}  // namespace cloze

#endif  // CLOZE_MODEL_GPU_MODEL_H_
