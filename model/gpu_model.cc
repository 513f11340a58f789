// GpuModel on the CUDA ops: model.cc's composition on device buffers. The encoder
// (gpu_encoder.cc) and the head (gpu_heads/) hold the computation, each read beside its
// CPU twin; this file only wires them together as model.cc does.
#include "model/gpu_model.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/device_array.h"
#include "model/gpu_encoder.h"
#include "model/gpu_head.h"
#include "model/gpu_linear.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "model/initialize.h"

namespace cloze {
namespace {

class CudaGpuModel final : public GpuModel {
 public:
  // `ops` already holds the parameters for `layout`.
  CudaGpuModel(std::unique_ptr<GpuOps> ops, std::unique_ptr<GpuHead> head, ParameterLayout layout)
      : ops_(std::move(ops)), head_(std::move(head)), layout_(std::move(layout)), encoder_(ops_.get(), layout_) {}

  const ModelConfig& config() const override { return ops_->config(); }
  const ParameterLayout& layout() const override { return layout_; }
  const HeadDefinition& head() const override { return head_->definition(); }
  const GpuModelOptions& options() const override { return ops_->options(); }
  float* parameters() override { return ops_->parameters().get(); }
  float* gradients() override { return ops_->gradients().get(); }

  absl::Status UploadParameters(std::span<const float> host) override {
    return ops_->parameters().Upload(host, "GpuModel::UploadParameters");
  }
  absl::Status DownloadParameters(std::span<float> host) const override {
    return ops_->parameters().Download(host, "GpuModel::DownloadParameters");
  }
  absl::Status DownloadGradients(std::span<float> host) const override {
    return ops_->gradients().Download(host, "GpuModel::DownloadGradients");
  }

  absl::Status InitializeParameters(uint64_t seed) override {
    std::vector<float> host(layout_.total_size);
    InitializeParameterBuffer(layout_, config(), seed, host);
    return UploadParameters(host);
  }

  absl::Status ZeroGradients() override {
    ZeroDeviceArray(ops_->gradients());
    return absl::OkStatus();
  }

  absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options) override {
    if (absl::Status s = ValidateInputs(batch, config()); !s.ok()) return s;
    if (absl::Status s = head().ValidateLabels(batch); !s.ok()) return s;
    batch_ = batch;
    options_ = options;
    has_forward_ = false;  // until this pass succeeds
    ops_->RoundParameters();
    if (absl::Status s = encoder_.Forward(batch_, options_, head().uses_pooled_output()); !s.ok()) return s;
    absl::StatusOr<Losses> losses = head_->Forward(Inputs());
    if (!losses.ok()) return losses.status();
    losses_ = *losses;
    has_forward_ = true;
    return losses;
  }

  absl::Status Backward(float loss_scale) override {
    if (!has_forward_) return absl::FailedPreconditionError("GpuModel::Backward without a Forward");
    return BackwardScaled(BatchTermScales(head().term_weights(), losses_, loss_scale));  // Model's, float for float
  }
  absl::Status Backward(const LossNormalizer& normalizer) override {
    if (!has_forward_) return absl::FailedPreconditionError("GpuModel::Backward without a Forward");
    return BackwardScaled(TermScales(head().term_weights(), normalizer));
  }

  absl::StatusOr<std::vector<float>> logits(int output) const override {
    if (!has_forward_) return absl::FailedPreconditionError("GpuModel::logits without a Forward");
    return head_->DownloadLogits(output);
  }

  absl::StatusOr<std::vector<float>> hidden_state(int i) const override {
    if (!has_forward_) return absl::FailedPreconditionError("GpuModel::hidden_state without a Forward");
    if (i < 0 || i > config().num_hidden_layers()) {
      return absl::InvalidArgumentError(
          absl::StrCat("GpuModel::hidden_state(", i, "): layers are 0 to ", config().num_hidden_layers()));
    }
    std::vector<float> host(int64_t{encoder_.batch_size()} * encoder_.seq_len() * config().hidden_size());
    if (absl::Status s = FromDeviceStatus(
            cuda::copy_to_host(host.data(), encoder_.hidden_state(i), host.size() * sizeof(float)),
            "GpuModel::hidden_state");
        !s.ok()) {
      return s;
    }
    return host;
  }

 private:
  GpuHeadInputs Inputs() const {
    return {.batch = &batch_,
            .hidden = encoder_.hidden(),
            .pooled = head().uses_pooled_output() ? encoder_.pooled() : nullptr,
            .options = options_};
  }

  absl::Status BackwardScaled(const std::array<float, kMaxLossTerms>& scales) {
    encoder_.ZeroOutputGradients();
    const GpuHeadGradients out{.hidden = encoder_.d_hidden(),
                               .pooled = head().uses_pooled_output() ? encoder_.d_pooled() : nullptr};
    if (absl::Status s = head_->Backward(Inputs(), scales, out); !s.ok()) return s;
    return encoder_.Backward();
  }

  std::unique_ptr<GpuOps> ops_;
  std::unique_ptr<GpuHead> head_;
  ParameterLayout layout_;  // the encoder's tensors, then the head's
  GpuEncoder encoder_;

  // Inputs of the last Forward.
  Batch batch_;  // host copy: labels for the loss summary
  StepOptions options_;
  Losses losses_;  // of the last Forward: Backward(loss_scale) normalises by its counts
  bool has_forward_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GpuModel>> GpuModel::Create(const ModelConfig& config, const GpuModelOptions& options,
                                                           const HeadSpec& head_spec) {
  if (const cuda::DeviceStatus usable = cuda::gpu_usable(); !usable.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("GpuModel: no usable GPU: ", usable.error));
  }
  std::unique_ptr<cuda::BlasContext> blas;
  if (absl::Status s = FromDeviceStatus(cuda::BlasContext::Create(&blas), "GpuModel: creating cuBLAS handles");
      !s.ok()) {
    return s;
  }
  auto ops = std::make_unique<GpuOps>(config, options, std::move(blas));
  absl::StatusOr<std::unique_ptr<GpuHead>> head = MakeGpuHead(head_spec, ops.get(), BuildEncoderLayout(config));
  if (!head.ok()) return head.status();
  ParameterLayout layout = LayoutWithHead(config, (*head)->definition());
  if (absl::Status s = ops->Allocate(layout.total_size); !s.ok()) return s;
  return std::unique_ptr<GpuModel>(
      std::make_unique<CudaGpuModel>(std::move(ops), std::move(*head), std::move(layout)));
}

}  // namespace cloze
