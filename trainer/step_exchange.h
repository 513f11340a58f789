// How the workers of a data-parallel job combine a step's work. The training loop
// (trainer.h) calls these in the same order on every worker; the single-process exchange
// does nothing, and worker/ provides the all-reduce (MPI, NCCL) and parameter-server ones.
//
// A step, on every worker:
//   1. SumStatistics(prediction counts of its micro-batches): the loss normaliser, so the
//      step's loss is the mean over all its predictions however they are split.
//   2. forward/backward of its micro-batches, normalised by that.
//   3. SumStatistics(loss sums, accuracy counts, tokens, stop flag).
//   4. ReduceGradients: the global norm of the summed gradient (every worker the same).
//   5. clip factor, guard decision and learning rate: deterministic, so every worker agrees.
//   6. applies_remotely() ? ApplyRemotely(...) : the trainer's own optimizer step.
//      The guard's rollback: locally, the trainer restores the last committed checkpoint;
//      remotely (rolls_back_remotely()), ApplyRemotely's rollback_to names that checkpoint
//      and the servers restore it, once, whatever the number of workers.
//
// On a GPU (trainer/training_backend.h) the gradients live in device memory. An exchange
// that can sum DEVICE buffers (reduces_device_gradients(): NCCL, or one process) is given
// them in place by SumDeviceGradients, and the trainer computes the norm on the device;
// any other exchange gets host copies through ReduceGradients and, for ApplyRemotely,
// host parameters, which the trainer copies back to the device.
#ifndef CLOZE_TRAINER_STEP_EXCHANGE_H_
#define CLOZE_TRAINER_STEP_EXCHANGE_H_

#include <cstdint>
#include <span>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloze {

class StepExchange {
 public:
  virtual ~StepExchange() = default;

  virtual int rank() const = 0;
  virtual int world_size() const = 0;

  // Called once before the first step, with the parameters the run starts from (initialised
  // or restored; the same on every worker). Parameter servers take a fresh run's initial
  // parameters from rank 0 here.
  virtual absl::Status Begin(int64_t step, std::span<const float> parameters) { return absl::OkStatus(); }

  // In place: values := their element-wise sum over the workers.
  virtual absl::Status SumStatistics(std::span<double> values) = 0;

  // Sums `gradients` over the workers where the update is applied (all-reduce: into
  // `gradients` on every worker; parameter servers: on the servers) and returns the L2 norm
  // of the sum (inf/NaN when it is not finite).
  virtual absl::StatusOr<double> ReduceGradients(int64_t step, std::span<float> gradients) = 0;

  // True when SumDeviceGradients takes DEVICE memory of the current GPU.
  virtual bool reduces_device_gradients() const { return false; }
  // In place: `gradients` (DEVICE memory) := their sum over the workers. The norm is the
  // caller's to compute (every worker holds the same bits afterwards).
  virtual absl::Status SumDeviceGradients(int64_t step, std::span<float> gradients) {
    return absl::UnimplementedError("this exchange sums host-memory gradients only");
  }

  // True when the optimizer runs elsewhere (parameter servers): the trainer then calls
  // ApplyRemotely instead of its own optimizer, and holds no optimizer state.
  virtual bool applies_remotely() const { return false; }
  // Applies (accept) or drops the summed gradient of `step`, multiplied by clip_scale, at
  // `learning_rate`, and writes the updated parameters into `parameters`. rollback_to >= 0
  // (with !accept; only where rolls_back_remotely()): the guard's rollback: the parameters
  // and the optimizer's moments and step count go back to the committed checkpoint of that
  // step (the step count goes on), and `parameters` receives them. Every worker passes
  // the same arguments.
  virtual absl::Status ApplyRemotely(int64_t step, float learning_rate, float clip_scale, bool accept,
                                     std::span<float> parameters, int64_t rollback_to = -1) {
    return absl::UnimplementedError("this exchange applies updates locally");
  }
  // True when ApplyRemotely can roll back (synchronous parameter servers). Bounded-staleness
  // servers cannot: there the trainer skips the step instead (and says so).
  virtual bool rolls_back_remotely() const { return false; }
};

// One process: sums are the values themselves.
class SingleProcessExchange final : public StepExchange {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  absl::Status SumStatistics(std::span<double>) override { return absl::OkStatus(); }
  absl::StatusOr<double> ReduceGradients(int64_t step, std::span<float> gradients) override;
  bool reduces_device_gradients() const override { return true; }
  absl::Status SumDeviceGradients(int64_t, std::span<float>) override { return absl::OkStatus(); }
};

}  // namespace cloze

#endif  // CLOZE_TRAINER_STEP_EXCHANGE_H_
