// The CPU TrainingBackend: Model + clip + Optimizer, the calls trainer.cc made before the
// backend interface existed, in the same order on the same buffers (so bit for bit).
#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/clip.h"
#include "kernels/cpu/optimizer.h"
#include "trainer/training_backend.h"

namespace cloze {
namespace {

absl::Status CheckSize(size_t got, int64_t want, const char* what) {
  if (static_cast<int64_t>(got) == want) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(what, ": ", got, " floats for a buffer of ", want));
}

class CpuBackend final : public TrainingBackend {
 public:
  CpuBackend(const TrainConfig& config, Model model, bool with_optimizer) : model_(std::move(model)) {
    if (with_optimizer) optimizer_.emplace(config.optimizer(), model_.layout());
  }

  const ParameterLayout& layout() const override { return model_.layout(); }
  const HeadDefinition& head() const override { return model_.head(); }
  bool on_device() const override { return false; }
  bool has_optimizer() const override { return optimizer_.has_value(); }
  std::span<float> parameters() override { return model_.parameters(); }
  std::span<float> gradients() override { return model_.gradients(); }

  absl::Status InitializeParameters(uint64_t seed) override {
    model_.InitializeParameters(seed);
    return absl::OkStatus();
  }
  absl::Status ZeroGradients() override {
    model_.ZeroGradients();
    return absl::OkStatus();
  }
  absl::StatusOr<Losses> Forward(const Batch& batch, const StepOptions& options) override {
    return model_.Forward(batch, options);
  }
  absl::Status Backward(const LossNormalizer& normalizer) override {
    return model_.Backward(normalizer);
  }

  absl::StatusOr<double> GradientNorm() override { return GlobalNorm(model_.gradients()); }
  absl::Status ApplyUpdate(float clip_scale, float learning_rate) override {
    if (!optimizer_) return absl::FailedPreconditionError("ApplyUpdate: this backend has no optimizer");
    ScaleGradients(model_.gradients(), clip_scale);
    optimizer_->Step(model_.parameters(), model_.gradients(), learning_rate);
    return absl::OkStatus();
  }

  absl::Status DownloadParameters(std::span<float> host) override { return Copy(model_.parameters(), host, "parameters"); }
  absl::Status UploadParameters(std::span<const float> host) override {
    return Copy(host, model_.parameters(), "parameters");
  }
  absl::Status DownloadGradients(std::span<float> host) override { return Copy(model_.gradients(), host, "gradients"); }
  absl::Status UploadGradients(std::span<const float> host) override {
    return Copy(host, model_.gradients(), "gradients");
  }

  absl::Status SaveState(CheckpointContents& c) override {
    c.parameters.assign(model_.parameters().begin(), model_.parameters().end());
    if (optimizer_) {
      c.optimizer_step = optimizer_->step_count();
      c.exp_avg.assign(optimizer_->exp_avg().begin(), optimizer_->exp_avg().end());
      c.exp_avg_sq.assign(optimizer_->exp_avg_sq().begin(), optimizer_->exp_avg_sq().end());
    }
    return absl::OkStatus();
  }
  absl::Status RestoreState(const CheckpointContents& c) override {
    if (absl::Status s = UploadParameters(c.parameters); !s.ok()) return s;
    return optimizer_ ? optimizer_->Restore(c.exp_avg, c.exp_avg_sq, c.optimizer_step) : absl::OkStatus();
  }

  absl::StatusOr<std::vector<float>> Logits(int output) override {
    const std::span<const float> logits = model_.logits(output);
    return std::vector<float>(logits.begin(), logits.end());
  }

 private:
  absl::Status Copy(std::span<const float> from, std::span<float> to, const char* what) const {
    const int64_t size = model_.layout().total_size;
    if (absl::Status s = CheckSize(from.size(), size, what); !s.ok()) return s;
    if (absl::Status s = CheckSize(to.size(), size, what); !s.ok()) return s;
    std::copy(from.begin(), from.end(), to.begin());
    return absl::OkStatus();
  }

  Model model_;
  std::optional<Optimizer> optimizer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<TrainingBackend>> MakeCpuBackend(const TrainConfig& config, bool with_optimizer) {
  absl::StatusOr<Model> model = Model::Create(config.model(), HeadSpecOf(config), CpuPrecisionOf(config), CpuTokenLayoutOf(config));
  if (!model.ok()) return model.status();
  return std::make_unique<CpuBackend>(config, *std::move(model), with_optimizer);
}

}  // namespace cloze
