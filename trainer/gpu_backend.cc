// The GPU TrainingBackend: GpuModel + GpuOptimizer on the current device. Host copies go
// through GpuModel's and GpuOptimizer's own (waiting for queued work).
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/device.h"
#include "kernels/cpu/clip.h"
#include "kernels/cuda/device_array.h"
#include "model/gpu_model.h"
#include "kernels/cuda/gpu_optimizer.h"
#include "trainer/training_backend.h"

namespace cloze {
namespace {

class GpuBackend final : public TrainingBackend {
 public:
  GpuBackend(std::unique_ptr<GpuModel> model, std::unique_ptr<GpuOptimizer> optimizer)
      : model_(std::move(model)), optimizer_(std::move(optimizer)), size_(model_->layout().total_size) {}

  const ParameterLayout& layout() const override { return model_->layout(); }
  const HeadDefinition& head() const override { return model_->head(); }
  bool on_device() const override { return true; }
  bool has_optimizer() const override { return optimizer_ != nullptr; }
  std::span<float> parameters() override { return {model_->parameters(), static_cast<size_t>(size_)}; }
  std::span<float> gradients() override { return {model_->gradients(), static_cast<size_t>(size_)}; }

  absl::Status InitializeParameters(uint64_t seed) override { return model_->InitializeParameters(seed); }
  absl::Status ZeroGradients() override { return model_->ZeroGradients(); }
  absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options) override {
    return model_->Forward(batch, options);
  }
  absl::Status Backward(const LossNormalizer& normalizer) override { return model_->Backward(normalizer); }

  absl::StatusOr<double> GradientNorm() override {
    if (optimizer_) return optimizer_->GlobalNorm(model_->gradients());
    // Parameter servers hold the optimizer and compute the norm themselves; only a caller
    // outside the loop gets here, so the host copy's cost does not matter.
    std::vector<float> host(size_);
    if (absl::Status s = DownloadGradients(host); !s.ok()) return s;
    return GlobalNorm(host);
  }
  absl::Status ApplyUpdate(float clip_scale, float learning_rate) override {
    if (!optimizer_) return absl::FailedPreconditionError("ApplyUpdate: this backend has no optimizer");
    return optimizer_->ScaleAndUpdate(model_->parameters(), model_->gradients(), clip_scale, learning_rate);
  }

  absl::Status DownloadParameters(std::span<float> host) override { return model_->DownloadParameters(host); }
  absl::Status UploadParameters(std::span<const float> host) override { return model_->UploadParameters(host); }
  absl::Status DownloadGradients(std::span<float> host) override { return model_->DownloadGradients(host); }
  absl::Status UploadGradients(std::span<const float> host) override {
    if (static_cast<int64_t>(host.size()) != size_) {
      return absl::InvalidArgumentError(absl::StrCat("gradients: ", host.size(), " floats for a buffer of ", size_));
    }
    return FromDeviceStatus(cuda::copy_to_device(model_->gradients(), host.data(), host.size() * sizeof(float)),
                            "uploading the gradients");
  }

  absl::Status SaveState(CheckpointContents& c) override {
    c.parameters.resize(size_);
    if (absl::Status s = DownloadParameters(c.parameters); !s.ok()) return s;
    if (optimizer_) {
      c.optimizer_step = optimizer_->step_count();
      c.exp_avg.resize(size_);
      c.exp_avg_sq.resize(size_);
      if (absl::Status s = optimizer_->DownloadState(c.exp_avg, c.exp_avg_sq); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  absl::Status RestoreState(const CheckpointContents& c) override {
    if (absl::Status s = UploadParameters(c.parameters); !s.ok()) return s;
    return optimizer_ ? optimizer_->Restore(c.exp_avg, c.exp_avg_sq, c.optimizer_step) : absl::OkStatus();
  }

  absl::StatusOr<std::vector<float>> Logits(int output) override {
    return model_->logits(output);
  }

 private:
  std::unique_ptr<GpuModel> model_;
  std::unique_ptr<GpuOptimizer> optimizer_;  // null with parameter servers
  const int64_t size_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TrainingBackend>> MakeGpuBackend(const TrainConfig& config,
                                                                const GpuModelOptions& options,
                                                                bool with_optimizer) {
  absl::StatusOr<std::unique_ptr<GpuModel>> model = GpuModel::Create(config.model(), options, HeadSpecOf(config));
  if (!model.ok()) return model.status();
  std::unique_ptr<GpuOptimizer> optimizer;
  if (with_optimizer) {
    absl::StatusOr<std::unique_ptr<GpuOptimizer>> made = GpuOptimizer::Create(config.optimizer(), (*model)->layout());
    if (!made.ok()) return made.status();
    optimizer = *std::move(made);
  }
  return std::make_unique<GpuBackend>(*std::move(model), std::move(optimizer));
}

}  // namespace cloze
