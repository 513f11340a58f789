#include "trainer/loss_guard.h"

#include <cmath>

#include "absl/strings/str_format.h"

namespace cloze {
namespace {

// The running mean is exact for the first kWindow accepted steps, then an exponential
// average with the same memory, so it follows a slowly falling loss.
constexpr int64_t kWindow = 100;

}  // namespace

TrainerState DefaultTrainerState() {
  TrainerState state;
  state.set_learning_rate_scale(1.0f);
  return state;
}

LossGuard::LossGuard(const GuardConfig& config, const TrainerState& state) : config_(config), state_(state) {}

GuardDecision LossGuard::Check(double loss, double grad_norm) {
  reason_.clear();
  if (!std::isfinite(loss)) {
    reason_ = absl::StrFormat("loss is %g", loss);
  } else if (!std::isfinite(grad_norm)) {
    reason_ = absl::StrFormat("gradient norm is %g", grad_norm);
  } else if (config_.spike_factor() > 0 && state_.accepted_steps() >= config_.spike_warmup_steps() &&
             loss > config_.spike_factor() * state_.loss_mean()) {
    reason_ = absl::StrFormat("loss %.6g > %g x running mean %.6g", loss, config_.spike_factor(), state_.loss_mean());
  }
  if (reason_.empty()) {
    const int64_t n = state_.accepted_steps() + 1;
    const double weight = n <= kWindow ? 1.0 / static_cast<double>(n) : 1.0 / kWindow;
    state_.set_loss_mean(state_.loss_mean() + weight * (loss - state_.loss_mean()));
    state_.set_accepted_steps(n);
    state_.set_consecutive_skips(0);
    return GuardDecision::kAccept;
  }
  state_.set_skipped_steps(state_.skipped_steps() + 1);
  state_.set_consecutive_skips(state_.consecutive_skips() + 1);
  if (state_.consecutive_skips() < config_.max_consecutive_skips()) return GuardDecision::kSkip;
  state_.set_consecutive_skips(0);
  state_.set_rollbacks(state_.rollbacks() + 1);
  state_.set_learning_rate_scale(state_.learning_rate_scale() * config_.rollback_lr_factor());
  return GuardDecision::kRollback;
}

void LossGuard::Save(TrainerState* state) const {
  state->set_loss_mean(state_.loss_mean());
  state->set_accepted_steps(state_.accepted_steps());
  state->set_skipped_steps(state_.skipped_steps());
  state->set_consecutive_skips(state_.consecutive_skips());
  state->set_learning_rate_scale(state_.learning_rate_scale());
  state->set_rollbacks(state_.rollbacks());
}

}  // namespace cloze
