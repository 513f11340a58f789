// The synchronous shard's overlapped update (server/parameter_shard.h): the updater
// thread applies a step a group of whole tensors at a time and publishes how far it is,
// while pulls stream each chunk once the update has passed its end; PullView registers
// the readers so that no update writes parameters a pull is still streaming.
#include <utility>

#include "absl/synchronization/mutex.h"
#include "server/parameter_shard.h"

namespace cloze {

void ParameterShard::RunUpdater() {
  while (true) {
    StepUpdateArgs update;
    {
      absl::MutexLock lock(&mu_);
      const auto has_job = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pending_update_.has_value(); };
      if (!AwaitLocked(has_job, nullptr).ok()) return;  // shut down
      update = *pending_update_;
      pending_update_.reset();
    }
    ApplyOverlapped(update);
  }
}

bool ParameterShard::OlderViewsOpenLocked() const {
  return !open_views_.empty() && open_views_.begin()->first < completed_;
}

void ParameterShard::ApplyOverlapped(const StepUpdateArgs& update) {
  {
    absl::MutexLock lock(&mu_);
    // A view of the previous parameters (a pull still streaming them) must end first.
    if (!AwaitLocked([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !OlderViewsOpenLocked(); }, nullptr)
             .ok()) {
      applying_ = false;
      changed_.SignalAll();
      return;
    }
  }
  // applying_ gives this thread the parameters, the optimizer and gradients_[0]; the
  // pulls read parameters_[0, updated_floats_) meanwhile, which it no longer writes.
  const int tensors = optimizer_.tensor_count();
  for (int first = 0; first < tensors;) {
    int end = first;
    int64_t floats = 0;
    while (end < tensors && floats < config_.update_group_floats) floats += sub_layout_.tensors[end++].size;
    optimizer_.StepTensors(parameters_, gradients_[0], update.clip_coefficient, update.learning_rate, first, end);
    first = end;
    if (first < tensors) {
      absl::MutexLock lock(&mu_);
      updated_floats_ = sub_layout_.tensors[first].offset;
      changed_.SignalAll();
    }
  }
  optimizer_.FinishStep();
  absl::MutexLock lock(&mu_);
  updated_floats_ = range_.size;
  applying_ = false;
  changed_.SignalAll();
  MaybeCheckpointLocked(completed_);
}

absl::Status ParameterShard::AwaitValues(int64_t completed_steps, int64_t end, const CancelledFn& cancelled) {
  absl::MutexLock lock(&mu_);
  return AwaitLocked(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !applying_ || completed_ != completed_steps || updated_floats_ >= end;
      },
      cancelled);
}

void ParameterShard::ReleaseView(int64_t completed_steps) {
  absl::MutexLock lock(&mu_);
  auto it = open_views_.find(completed_steps);
  if (it != open_views_.end() && --it->second == 0) {
    open_views_.erase(it);
    changed_.SignalAll();
  }
}

PullView& PullView::operator=(PullView&& other) noexcept {
  if (this != &other) {
    Release();
    shard_ = std::exchange(other.shard_, nullptr);
    completed_steps_ = other.completed_steps_;
    snapshot_ = std::move(other.snapshot_);  // the buffer moves with it: values_ stays valid
    values_ = std::exchange(other.values_, {});
  }
  return *this;
}

void PullView::Release() {
  if (shard_ != nullptr) std::exchange(shard_, nullptr)->ReleaseView(completed_steps_);
}

absl::Status PullView::AwaitValues(int64_t end, const CancelledFn& cancelled) const {
  if (shard_ == nullptr) return absl::OkStatus();
  return shard_->AwaitValues(completed_steps_, end, cancelled);
}

absl::StatusOr<PullView> ParameterShard::ViewLocked() {
  PullView view;
  if (synchronous()) {
    view.shard_ = this;
    view.completed_steps_ = completed_;
    view.values_ = parameters_;
    ++open_views_[completed_];
  } else {
    view.completed_steps_ = MinClockLocked();
    view.snapshot_ = parameters_;  // applies hold mu_, so this copy is consistent
    view.values_ = view.snapshot_;
  }
  return view;
}

}  // namespace cloze
