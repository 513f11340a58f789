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

  // True when the optimizer runs elsewhere (parameter servers): the trainer then calls
  // ApplyRemotely instead of its own optimizer, and holds no optimizer state.
  virtual bool applies_remotely() const { return false; }
  // Applies (accept) or drops the summed gradient of `step`, multiplied by clip_scale, at
  // `learning_rate`, and writes the updated parameters into `parameters`.
  virtual absl::Status ApplyRemotely(int64_t step, float learning_rate, float clip_scale, bool accept,
                                     std::span<float> parameters) {
    return absl::UnimplementedError("this exchange applies updates locally");
  }
};

// One process: sums are the values themselves.
class SingleProcessExchange final : public StepExchange {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  absl::Status SumStatistics(std::span<double>) override { return absl::OkStatus(); }
  absl::StatusOr<double> ReduceGradients(int64_t step, std::span<float> gradients) override;
};

}  // namespace cloze

#endif  // CLOZE_TRAINER_STEP_EXCHANGE_H_
