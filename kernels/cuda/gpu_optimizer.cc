// GpuOptimizer on kernels/cuda/clip.h and kernels/cuda/optimizer.h.
#include "kernels/cuda/gpu_optimizer.h"

#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/clip.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/optimizer.h"
#include "kernels/cuda/device_array.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "kernels/cpu/optimizer.h"

namespace cloze {
namespace {

class CudaGpuOptimizer final : public GpuOptimizer {
 public:
  CudaGpuOptimizer(const OptimizerConfig& config, int64_t total_size,
                   std::unique_ptr<cuda::FusedOptimizer> fused)
      : config_(config), total_size_(total_size), fused_(std::move(fused)) {}

  absl::Status Allocate() {
    if (absl::Status s = exp_avg_.Resize(total_size_, "optimizer exp_avg"); !s.ok()) return s;
    if (absl::Status s = exp_avg_sq_.Resize(total_size_, "optimizer exp_avg_sq"); !s.ok()) return s;
    if (absl::Status s = norm_scratch_.Resize(cuda::global_norm_scratch_doubles(total_size_),
                                              "global-norm scratch");
        !s.ok()) {
      return s;
    }
    gpu::zero_bytes(exp_avg_.get(), total_size_ * sizeof(float));
    gpu::zero_bytes(exp_avg_sq_.get(), total_size_ * sizeof(float));
    return FromDeviceStatus(cuda::device_synchronize(), "zeroing the optimizer moments");
  }

  absl::StatusOr<ClipResult> Step(float* params, float* grads, float learning_rate) override {
    absl::StatusOr<double> norm = GlobalNorm(grads);
    if (!norm.ok()) return norm.status();
    ClipResult result{.norm = *norm, .finite = std::isfinite(*norm), .clipped = false};
    if (!result.finite) return result;
    const float scale = cuda::clip_scale(*norm, config_.max_grad_norm());
    result.clipped = scale != 1.0f;
    if (absl::Status s = ScaleAndUpdate(params, grads, scale, learning_rate); !s.ok()) return s;
    return result;
  }

  absl::StatusOr<double> GlobalNorm(const float* grads) override {
    double norm = 0;
    if (absl::Status s = FromDeviceStatus(cuda::global_norm(&norm, grads, total_size_, norm_scratch_.get()),
                                          "GpuOptimizer: global gradient norm");
        !s.ok()) {
      return s;
    }
    return norm;
  }

  absl::Status ScaleAndUpdate(float* params, float* grads, float clip_scale, float learning_rate) override {
    cuda::scale_gradients(grads, total_size_, clip_scale);
    const cuda::OptimizerHyperparameters h{config_.beta1(), config_.beta2(), config_.epsilon(),
                                           config_.weight_decay()};
    if (config_.kind() == OptimizerConfig::LAMB) {
      fused_->LambStep(params, grads, exp_avg_.get(), exp_avg_sq_.get(), h, learning_rate);
    } else {
      fused_->AdamWStep(params, grads, exp_avg_.get(), exp_avg_sq_.get(), h, learning_rate, step_count_);
    }
    ++step_count_;
    return absl::OkStatus();
  }

  int64_t step_count() const override { return step_count_; }

  absl::Status DownloadState(std::span<float> exp_avg, std::span<float> exp_avg_sq) const override {
    if (absl::Status s = exp_avg_.Download(exp_avg, "GpuOptimizer exp_avg"); !s.ok()) return s;
    return exp_avg_sq_.Download(exp_avg_sq, "GpuOptimizer exp_avg_sq");
  }

  absl::Status Restore(std::span<const float> exp_avg, std::span<const float> exp_avg_sq,
                       int64_t step_count) override {
    if (step_count < 0) {
      return absl::InvalidArgumentError(absl::StrCat("GpuOptimizer::Restore: step_count ", step_count, " < 0"));
    }
    if (static_cast<int64_t>(exp_avg.size()) != total_size_ ||
        static_cast<int64_t>(exp_avg_sq.size()) != total_size_) {
      return absl::InvalidArgumentError(absl::StrCat("GpuOptimizer::Restore: moments of ", exp_avg.size(),
                                                     " and ", exp_avg_sq.size(), " floats, want ",
                                                     total_size_));
    }
    if (absl::Status s = exp_avg_.Upload(exp_avg, "GpuOptimizer exp_avg"); !s.ok()) return s;
    if (absl::Status s = exp_avg_sq_.Upload(exp_avg_sq, "GpuOptimizer exp_avg_sq"); !s.ok()) return s;
    step_count_ = step_count;
    return absl::OkStatus();
  }

 private:
  OptimizerConfig config_;
  int64_t total_size_;
  std::unique_ptr<cuda::FusedOptimizer> fused_;
  DeviceArray<float> exp_avg_, exp_avg_sq_;
  DeviceArray<double> norm_scratch_;
  int64_t step_count_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<GpuOptimizer>> GpuOptimizer::Create(const OptimizerConfig& config,
                                                                  const ParameterLayout& layout) {
  if (absl::Status s = ValidateOptimizerConfig(config); !s.ok()) return s;
  if (const cuda::DeviceStatus usable = cuda::gpu_usable(); !usable.ok()) {
    return absl::FailedPreconditionError(absl::StrCat("GpuOptimizer: no usable GPU: ", usable.error));
  }
  std::vector<cuda::OptimizerTensor> tensors;
  tensors.reserve(layout.tensors.size());
  for (const NamedTensor& t : layout.tensors) tensors.push_back({t.offset, t.size, t.weight_decay});
  std::unique_ptr<cuda::FusedOptimizer> fused;
  if (absl::Status s = FromDeviceStatus(cuda::FusedOptimizer::Create(tensors, layout.total_size, &fused),
                                        "GpuOptimizer: the fused optimizer's block table");
      !s.ok()) {
    return s;
  }
  auto optimizer = std::make_unique<CudaGpuOptimizer>(config, layout.total_size, std::move(fused));
  if (absl::Status s = optimizer->Allocate(); !s.ok()) return s;
  return std::unique_ptr<GpuOptimizer>(std::move(optimizer));
}

}  // namespace cloze
