// The guard against non-finite and spiking losses.
//
// Every optimizer step's loss and gradient norm pass through Check before the update:
// a non-finite value, or (after spike_warmup_steps accepted steps) a loss above
// spike_factor × the running mean of accepted losses, skips the update. After
// max_consecutive_skips skips in a row the answer is kRollback: the trainer reloads the
// last checkpoint and continues with the learning rate scaled by rollback_lr_factor
// (data keeps moving forward, so the batches that spiked are not replayed). With parameter
// servers, synchronous servers restore the checkpoint themselves (trainer/step_exchange.h);
// bounded-staleness ones cannot, and the trainer only skips the step there.
//
// All state is in TrainerState, so a resumed run guards exactly as an uninterrupted one.
#ifndef CLOZE_TRAINER_LOSS_GUARD_H_
#define CLOZE_TRAINER_LOSS_GUARD_H_

#include <string>

#include "proto/checkpoint.pb.h"
#include "proto/train_config.pb.h"

namespace cloze {

enum class GuardDecision { kAccept, kSkip, kRollback };

class LossGuard {
 public:
  // `state` is the saved TrainerState (a fresh run passes DefaultTrainerState()).
  LossGuard(const GuardConfig& config, const TrainerState& state);

  GuardDecision Check(double loss, double grad_norm);

  // Why the last Check did not accept ("loss is nan", "loss 9.1 > 3 x mean 2.4").
  const std::string& reason() const { return reason_; }

  // Copies the guard's fields into *state (others are left alone).
  void Save(TrainerState* state) const;
  float learning_rate_scale() const { return state_.learning_rate_scale(); }
  int64_t skipped_steps() const { return state_.skipped_steps(); }

 private:
  GuardConfig config_;
  TrainerState state_;
  std::string reason_;
};

// A fresh run's TrainerState: learning_rate_scale 1, everything else 0.
TrainerState DefaultTrainerState();

}  // namespace cloze

#endif  // CLOZE_TRAINER_LOSS_GUARD_H_
