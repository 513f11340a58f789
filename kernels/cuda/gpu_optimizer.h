// The training step's update on the GPU: global-norm clipping plus LAMB or AdamW over the
// flat DEVICE parameter and gradient buffers (GpuModel's), with the moments on the device.
//
// The twin of the CPU trainer's sequence (trainer/trainer.cc): norm = GlobalNorm(grads);
// ScaleGradients(grads, ClipScale(norm, max_grad_norm)); Optimizer::Step(params, grads, lr),
// on kernels/cuda/clip.h and kernels/cuda/optimizer.h, which follow kernels/cpu/clip.h and
// kernels/cpu/optimizer.h formula by formula (see those headers for the update rules).
//
// Errors: Create fails (FailedPrecondition) where CUDA is not built or no GPU is usable,
// InvalidArgument for an invalid OptimizerConfig (ValidateOptimizerConfig), and
// ResourceExhausted/Internal when device memory runs out. Step returns Internal naming
// the failing call when a device call fails.
//
// Not thread-safe; work runs on the default stream of the current device.
#ifndef CLOZE_KERNELS_CUDA_GPU_OPTIMIZER_H_
#define CLOZE_KERNELS_CUDA_GPU_OPTIMIZER_H_

#include <cstdint>
#include <memory>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"
#include "kernels/cpu/clip.h"
#include "kernels/parameter_layout.h"

namespace cloze {

class GpuOptimizer {
 public:
  static absl::StatusOr<std::unique_ptr<GpuOptimizer>> Create(const OptimizerConfig& config,
                                                              const ParameterLayout& layout);
  virtual ~GpuOptimizer() = default;

  // The whole update: computes the gradients' global norm (waiting for the device, the
  // norm is needed on the host) and, when it is finite, clips them at
  // config.max_grad_norm() (0: no clipping) and applies one LAMB/AdamW update to `params`
  // with `learning_rate`, incrementing step_count(). When the norm is not finite nothing
  // changes (ClipResult.finite false): the caller skips the step, as the CPU trainer does.
  // `params` and `grads` are DEVICE pointers to the layout's total_size floats.
  virtual absl::StatusOr<ClipResult> Step(float* params, float* grads, float learning_rate) = 0;

  // The two halves, for a caller that reduces or guards in between: the global norm, and
  // the update after scaling the gradients by `clip_scale` (ClipScale(norm, max)).
  virtual absl::StatusOr<double> GlobalNorm(const float* grads) = 0;
  virtual absl::Status ScaleAndUpdate(float* params, float* grads, float clip_scale,
                                      float learning_rate) = 0;

  virtual int64_t step_count() const = 0;

  // Host copies of the moments (total_size floats each), for checkpoints; and the way
  // back. InvalidArgument for a wrong size or a negative step_count (state unchanged).
  virtual absl::Status DownloadState(std::span<float> exp_avg, std::span<float> exp_avg_sq) const = 0;
  virtual absl::Status Restore(std::span<const float> exp_avg, std::span<const float> exp_avg_sq,
                               int64_t step_count) = 0;
};

}  // namespace cloze

#endif  // CLOZE_KERNELS_CUDA_GPU_OPTIMIZER_H_
