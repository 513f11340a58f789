// Fused LAMB and AdamW over the flat parameter buffer on the GPU: the CUDA twin of
// kernels/cpu/optimizer.h's Step (read that header for the exact update rules; these kernels
// follow it formula by formula).
//
// The optimizer state (exp_avg, exp_avg_sq) lives in caller-owned DEVICE buffers of the
// parameter layout, so checkpoints read and write them as one range, as on the CPU. The
// work is cut exactly as the CPU cuts it: fixed 32768-element blocks within each tensor,
// one CUDA block each. Every per-element operation is spelled with round-to-nearest
// intrinsics (no FMA contraction) in the CPU's order, so AdamW, and LAMB given the same
// trust ratios, give the CPU's floats; LAMB's per-tensor norms are double sums of block
// partials added in block order (each partial a tree sum in double), so they are
// deterministic run to run and match the CPU's to ~1e-16.
//
// LAMB runs three kernels: moments plus per-block Σp² and Σu², then one thread per tensor
// forming its step size (trust ratio · lr), then the update. Calls enqueue work on the
// default stream; faults surface at the next device_synchronize() (device.h). Not
// thread-safe for one FusedOptimizer.
//
// Plain C++, so g++-built code includes it without CUDA headers. Where no CUDA code is built
// (optimizer_none.cc) Create fails saying so, so no instance ever exists there.
#ifndef CLOZE_KERNELS_CUDA_OPTIMIZER_H_
#define CLOZE_KERNELS_CUDA_OPTIMIZER_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/cuda/device.h"

namespace cloze::cuda {

// One tensor of the flat buffer (trainer's NamedTensor without the name and shape).
struct OptimizerTensor {
  int64_t offset = 0;
  int64_t size = 0;
  bool decayed = false;  // weight decay and, for LAMB, the trust ratio apply
};

// OptimizerConfig's fields the update uses (validated by the caller, as the CPU's are).
struct OptimizerHyperparameters {
  float beta1 = 0.9f;
  float beta2 = 0.999f;
  float epsilon = 1e-6f;
  float weight_decay = 0.01f;
};

class FusedOptimizer {
 public:
  // Uploads the block table for `tensors`, which must tile [0, total_size) in buffer order
  // (InvalidArgument-like error naming the tensor otherwise), and allocates LAMB's scratch.
  static DeviceStatus Create(const std::vector<OptimizerTensor>& tensors, int64_t total_size,
                             std::unique_ptr<FusedOptimizer>* optimizer);
  ~FusedOptimizer();
  FusedOptimizer(const FusedOptimizer&) = delete;
  FusedOptimizer& operator=(const FusedOptimizer&) = delete;

  // One update of params (total_size) from grads (already clipped and finite), updating the
  // moments in place. `completed_steps` is the CPU's step_count() before the step (AdamW's
  // bias correction uses completed_steps + 1). Enqueues only.
  void AdamWStep(float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                 const OptimizerHyperparameters& h, float learning_rate, int64_t completed_steps);
  void LambStep(float* params, const float* grads, float* exp_avg, float* exp_avg_sq,
                const OptimizerHyperparameters& h, float learning_rate);

  struct DeviceState;  // defined in optimizer.cu

 private:
  explicit FusedOptimizer(DeviceState* state) : state_(state) {}
  DeviceState* state_;  // owned
};

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_OPTIMIZER_H_
