// LAMB and AdamW over the flat parameter buffer (OptimizerConfig).
//
// Parameters, gradients and the two moment buffers share the layout of
// parameter_layout.h; per-tensor behaviour comes from ParameterLayout::tensors. A tensor
// with NamedTensor::weight_decay false (layer norms and biases, as ALBERT's
// exclude_from_weight_decay = ["LayerNorm", "layer_norm", "bias"]) gets no weight decay
// and, for LAMB, no trust ratio.
//
// LAMB is ALBERT's LAMBOptimizer (google-research/albert lamb_optimizer.py), per tensor,
// with g the (clipped) gradient, p the parameter, lr the scheduled learning rate:
//   m ← β1·m + (1 − β1)·g
//   v ← β2·v + (1 − β2)·g²
//   u = m / (√v + ε)                      no bias correction (as ALBERT)
//   u ← u + weight_decay·p                if decayed
//   r = ‖p‖ / ‖u‖ if decayed and both norms > 0, else 1
//   p ← p − (r·lr)·u
// ALBERT's exclude_from_layer_adaptation defaults to the weight-decay exclusions, so
// the trust ratio applies exactly to the decayed tensors (even when weight_decay is 0).
// The norms are accumulated in double in a fixed order (TF: float32).
//
// AdamW is torch.optim.AdamW (decoupled weight decay, bias-corrected), per element, at
// step t = step_count() + 1:
//   p ← p·(1 − lr·weight_decay)           if decayed
//   m ← β1·m + (1 − β1)·g                 (torch: m.lerp_(g, 1 − β1); same up to rounding)
//   v ← β2·v + (1 − β2)·g²
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
// It is not BERT's AdamWeightDecayOptimizer (google-research/bert optimization.py), which
// has no bias correction (so its first updates are (1 − β1)/√(1 − β2) ≈ 3.2 times
// larger at the default betas), puts ε on the uncorrected √v, and decays with
// p ← p − lr·(u + weight_decay·p) after the update is formed rather than before.
//
// Every update is per element, and the only reductions (LAMB's norms) sum fixed blocks
// in a fixed order, so results are bitwise identical for any OpenMP thread count.
//
// Not thread-safe; Step uses OpenMP internally.
#ifndef CLOZE_KERNELS_CPU_OPTIMIZER_H_
#define CLOZE_KERNELS_CPU_OPTIMIZER_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/status/status.h"
#include "proto/train_config.pb.h"
#include "kernels/parameter_layout.h"

namespace cloze {

// InvalidArgument naming the field unless kind is LAMB or ADAMW, learning_rate > 0,
// 0 <= beta1, beta2 < 1, epsilon > 0, weight_decay >= 0 and max_grad_norm >= 0 (all
// finite).
absl::Status ValidateOptimizerConfig(const OptimizerConfig& config);

class Optimizer {
 public:
  // `config` must be valid (ValidateOptimizerConfig) and `layout`'s tensors must tile
  // [0, total_size) in buffer order (as BuildParameterLayout's do); otherwise aborts.
  // Moments start at zero, step_count() at 0.
  Optimizer(const OptimizerConfig& config, const ParameterLayout& layout);

  // One update of `params` from `grads` (already clipped, finite: see clip.h) with
  // `learning_rate` (the schedule's value for step_count(), see schedule.h). Both spans
  // must have the layout's total_size elements (else aborts). Increments step_count().
  void Step(std::span<float> params, std::span<const float> grads, float learning_rate);

  // Step in pieces, so that a caller can use the first tensors' new values while later
  // ones are still being updated (server/parameter_shard.h streams them to workers):
  // StepTensors updates tensors [first_tensor, end_tensor) of the layout from
  // grads × gradient_scale (one float product per element, as clip.h's
  // ClipGradientsByGlobalNorm scales; `grads` is not written). Calls whose ranges cover
  // every tensor once, in any order, followed by one FinishStep(), leave the parameters
  // and the state bitwise as Step(params, grads × gradient_scale, learning_rate) does:
  // Step is StepTensors over all tensors with scale 1 (x × 1 = x exactly) and
  // FinishStep; every tensor's arithmetic depends on that tensor alone (LAMB's norms and
  // trust ratio are per tensor, from fixed blocks that start at the tensor; AdamW is per
  // element and uses step t = step_count() + 1 until FinishStep). Spans as Step's; aborts
  // unless 0 <= first_tensor <= end_tensor <= tensor_count().
  void StepTensors(std::span<float> params, std::span<const float> grads, float gradient_scale,
                   float learning_rate, int first_tensor, int end_tensor);
  // Ends a step done with StepTensors: increments step_count().
  void FinishStep() { ++step_count_; }
  int tensor_count() const { return static_cast<int>(tensors_.size()); }

  // The state a checkpoint must hold for an exact resume: both moments (the parameter
  // layout, float32) and the number of completed steps. Writable so that a checkpoint
  // can be read straight into them; Restore is the checked alternative.
  std::span<float> exp_avg() { return exp_avg_; }
  std::span<const float> exp_avg() const { return exp_avg_; }
  std::span<float> exp_avg_sq() { return exp_avg_sq_; }
  std::span<const float> exp_avg_sq() const { return exp_avg_sq_; }
  int64_t step_count() const { return step_count_; }

  // Replaces the state with a saved one. InvalidArgument (state unchanged) unless both
  // spans have total_size elements and step_count >= 0.
  absl::Status Restore(std::span<const float> exp_avg, std::span<const float> exp_avg_sq,
                       int64_t step_count);

  const OptimizerConfig& config() const { return config_; }

 private:
  // A contiguous piece of one tensor: the unit of work and of LAMB's partial norms.
  struct Block {
    int64_t begin = 0, end = 0;
    int tensor = 0;  // index into tensors_
  };
  struct Tensor {
    bool decayed = false;
    int first_block = 0, blocks = 0;
  };

  // Blocks [first_block, end_block) of tensors [first_tensor, end_tensor).
  void LambStep(float* params, const float* grads, float gradient_scale, float learning_rate,
                int first_tensor, int end_tensor, int64_t first_block, int64_t end_block);
  void AdamWStep(float* params, const float* grads, float gradient_scale, float learning_rate,
                 int64_t first_block, int64_t end_block);

  OptimizerConfig config_;
  int64_t total_size_ = 0;
  std::vector<Tensor> tensors_;
  std::vector<Block> blocks_;
  std::vector<float> exp_avg_, exp_avg_sq_;
  int64_t step_count_ = 0;
  // LAMB scratch: per block, Σp² and Σu².
  std::vector<double> param_squares_, update_squares_;
};

}  // namespace cloze

#endif  // CLOZE_KERNELS_CPU_OPTIMIZER_H_
