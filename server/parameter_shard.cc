#include "server/parameter_shard.h"

#include <algorithm>
#include <cmath>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "checkpoint/checkpoint_parts.h"

namespace cloze {
namespace {

constexpr int64_t kNormBlock = 1 << 15;  // as kernels/cpu/clip.cc

absl::Status ValidateShardConfig(const ShardConfig& config) {
  if (config.workers < 1) {
    return absl::InvalidArgumentError(absl::StrCat("DistributedConfig.workers: ", config.workers, " is not >= 1"));
  }
  if (absl::Status status = ValidateServerCount(config.layout, config.num_servers); !status.ok()) return status;
  if (config.server_rank < 0 || config.server_rank >= config.num_servers) {
    return absl::InvalidArgumentError(
        absl::StrCat("server rank ", config.server_rank, " is not in [0, ", config.num_servers, ")"));
  }
  if (config.update_group_floats < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("update_group_floats: ", config.update_group_floats, " is not >= 1"));
  }
  if (config.max_staleness < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("DistributedConfig.max_staleness: ", config.max_staleness, " is not >= 0"));
  }
  if (!DistributedConfig::Consistency_IsValid(config.consistency)) {
    return absl::InvalidArgumentError(absl::StrCat("DistributedConfig.consistency: ", config.consistency, " is unknown"));
  }
  return ValidateOptimizerConfig(config.optimizer);
}

void MultiplyInPlace(std::span<float> values, float factor) {
  float* x = values.data();
  const int64_t n = static_cast<int64_t>(values.size());
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) x[i] *= factor;
}

}  // namespace

double SumOfSquares(std::span<const float> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t blocks = (n + kNormBlock - 1) / kNormBlock;
  std::vector<double> partial(blocks);
  const float* x = values.data();
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = std::min(n, (b + 1) * kNormBlock);
    double sum = 0;
    for (int64_t i = b * kNormBlock; i < end; ++i) sum += static_cast<double>(x[i]) * x[i];
    partial[b] = sum;
  }
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

absl::StatusOr<std::unique_ptr<ParameterShard>> ParameterShard::Create(ShardConfig config) {
  if (absl::Status status = ValidateShardConfig(config); !status.ok()) return status;
  return std::unique_ptr<ParameterShard>(new ParameterShard(std::move(config)));
}

ParameterShard::ParameterShard(ShardConfig config)
    : config_(std::move(config)),
      tensors_(PartitionTensors(config_.layout, config_.num_servers)[config_.server_rank]),
      range_(FloatRangeOf(config_.layout, tensors_)),
      sub_layout_(SubLayout(config_.layout, tensors_.first, tensors_.second)),
      parameters_(range_.size, 0.0f),
      optimizer_(config_.optimizer, sub_layout_),
      gradients_(config_.workers, std::vector<float>(range_.size, 0.0f)),
      receiving_(config_.workers, 0),
      pushed_(config_.workers, 0),
      statistics_(config_.workers),
      clock_(config_.workers, 0),
      worker_last_update_(config_.workers) {
  if (synchronous()) updater_ = std::thread([this] { RunUpdater(); });
}

ParameterShard::~ParameterShard() {
  Shutdown();
  if (updater_.joinable()) updater_.join();
}

int64_t ParameterShard::completed_steps() const {
  absl::MutexLock lock(&mu_);
  return synchronous() ? completed_ - (applying_ ? 1 : 0) : MinClockLocked();
}

bool ParameterShard::initialized() const {
  absl::MutexLock lock(&mu_);
  return initialized_;
}

std::string ParameterShard::PartName() const {
  return absl::StrFormat("ps-%05d-of-%05d", config_.server_rank, config_.num_servers);
}

absl::Status ParameterShard::ValidateRank(int worker_rank) const {
  if (worker_rank < 0 || worker_rank >= config_.workers) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker_rank: ", worker_rank, " is not in [0, ", config_.workers, ")"));
  }
  return absl::OkStatus();
}

int64_t ParameterShard::MinClockLocked() const { return *std::min_element(clock_.begin(), clock_.end()); }

absl::Status ParameterShard::AwaitLocked(const std::function<bool()>& ready, const CancelledFn& cancelled) {
  while (!ready()) {
    if (shut_down_) return absl::UnavailableError("the parameter server is shutting down");
    if (cancelled && cancelled()) return absl::CancelledError("the caller gave up waiting");
    changed_.WaitWithTimeout(&mu_, absl::Milliseconds(100));
  }
  if (shut_down_) return absl::UnavailableError("the parameter server is shutting down");
  return absl::OkStatus();
}

absl::Status ParameterShard::InitializeFrom(std::span<const float> full_parameters) {
  if (static_cast<int64_t>(full_parameters.size()) != config_.layout.total_size) {
    return absl::InvalidArgumentError(absl::StrCat("initial parameters: ", full_parameters.size(),
                                                   " floats, the model has ", config_.layout.total_size));
  }
  absl::MutexLock lock(&mu_);
  if (initialized_ || init_receiving_) {
    return absl::FailedPreconditionError(
        absl::StrCat("parameter server ", config_.server_rank, " already holds parameters"));
  }
  std::copy_n(full_parameters.begin() + range_.begin, range_.size, parameters_.begin());
  initialized_ = true;
  completed_ = 0;
  changed_.SignalAll();
  return absl::OkStatus();
}

absl::StatusOr<float*> ParameterShard::BeginInit(int worker_rank) {
  if (worker_rank != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker_rank: ", worker_rank, " sent initial parameters; only worker 0 does"));
  }
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::UnavailableError("the parameter server is shutting down");
  if (initialized_ || init_receiving_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "parameter server ", config_.server_rank, initialized_ ? " already holds parameters" : " is being initialised"));
  }
  init_receiving_ = true;
  return parameters_.data();  // nobody reads them before initialized_
}

void ParameterShard::FinishInit(bool complete) {
  absl::MutexLock lock(&mu_);
  init_receiving_ = false;
  if (!complete) return;
  initialized_ = true;
  completed_ = 0;
  changed_.SignalAll();
}

namespace {

// Whether a checkpoint's whole-model contents fit `layout`.
absl::Status CheckContents(const CheckpointContents& contents, const ParameterLayout& layout) {
  const int64_t total = layout.total_size;
  if (static_cast<int64_t>(contents.parameters.size()) != total ||
      static_cast<int64_t>(contents.exp_avg.size()) != total ||
      static_cast<int64_t>(contents.exp_avg_sq.size()) != total) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint of step ", contents.step,
                                                   ": its buffers do not have the model's ", total, " floats"));
  }
  if (contents.step < 0) return absl::InvalidArgumentError(absl::StrCat("checkpoint step ", contents.step, " < 0"));
  if (contents.optimizer_step < 0) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint of step ", contents.step, ": optimizer step ",
                                                   contents.optimizer_step, " < 0"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CheckpointContents> ParameterShard::ReadCheckpoint(const std::string& checkpoint_dir) const {
  absl::StatusOr<CheckpointContents> contents = LoadCheckpoint(checkpoint_dir, config_.layout);
  absl::Status status = contents.ok() ? CheckContents(*contents, config_.layout) : contents.status();
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat("parameter server ", config_.server_rank, ": cannot load ",
                                                    checkpoint_dir, ": ", status.message()));
  }
  return contents;
}

std::string ParameterShard::RollbackCheckpointDir(int64_t checkpoint_step) const {
  return absl::StrCat(config_.run_dir, "/checkpoints/", CheckpointDirName(checkpoint_step));
}

absl::Status ParameterShard::LoadRangeLocked(const CheckpointContents& contents) {
  const auto slice = [&](const std::vector<float>& v) {
    return std::span<const float>(v).subspan(range_.begin, range_.size);
  };
  // Restore checks before it changes anything, so a refusal leaves the shard as it was.
  if (absl::Status status =
          optimizer_.Restore(slice(contents.exp_avg), slice(contents.exp_avg_sq), contents.optimizer_step);
      !status.ok()) {
    return status;
  }
  std::copy_n(contents.parameters.begin() + range_.begin, range_.size, parameters_.begin());
  return absl::OkStatus();
}

absl::Status ParameterShard::RestoreFromCheckpoint(const std::string& checkpoint_dir) {
  absl::StatusOr<CheckpointContents> contents = ReadCheckpoint(checkpoint_dir);
  if (!contents.ok()) return contents.status();
  return RestoreFrom(*contents);
}

absl::Status ParameterShard::RestoreFrom(const CheckpointContents& contents) {
  if (absl::Status status = CheckContents(contents, config_.layout); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  if (init_receiving_ || std::any_of(receiving_.begin(), receiving_.end(), [](char r) { return r != 0; })) {
    return absl::FailedPreconditionError("cannot restore while parameters or gradients are being received");
  }
  // Nobody may be reading or updating the parameters while they are replaced.
  if (applying_ || !open_views_.empty()) {
    if (absl::Status status = AwaitLocked([&] { return !applying_ && open_views_.empty(); }, nullptr); !status.ok()) {
      return status;
    }
  }
  if (absl::Status status = LoadRangeLocked(contents); !status.ok()) return status;
  initialized_ = true;
  completed_ = contents.step;
  checkpointed_clock_ = contents.step;
  std::fill(clock_.begin(), clock_.end(), contents.step);
  std::fill(pushed_.begin(), pushed_.end(), 0);
  std::fill(worker_last_update_.begin(), worker_last_update_.end(), std::nullopt);
  summed_step_ = -1;
  last_update_.reset();
  changed_.SignalAll();
  return absl::OkStatus();
}

absl::StatusOr<float*> ParameterShard::BeginPush(int worker_rank, int64_t step, std::span<const double> statistics) {
  if (absl::Status status = ValidateRank(worker_rank); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  if (shut_down_) return absl::UnavailableError("the parameter server is shutting down");
  if (!initialized_) {
    return absl::FailedPreconditionError(absl::StrCat("worker ", worker_rank, " pushed step ", step,
                                                      " before the parameter server held parameters"));
  }
  const int64_t expected = synchronous() ? completed_ : clock_[worker_rank];
  if (step != expected) {
    return absl::InvalidArgumentError(absl::StrCat("step: worker ", worker_rank, " pushed step ", step,
                                                   "; the parameter server expects its step ", expected));
  }
  if (pushed_[worker_rank]) {
    return absl::FailedPreconditionError(absl::StrCat("worker ", worker_rank, " already pushed step ", step));
  }
  if (applying_) {  // the summed gradient is still being read; no worker has the parameters yet
    return absl::FailedPreconditionError(absl::StrCat("worker ", worker_rank, " pushed step ", step,
                                                      " before pulling step ", step - 1, ", which is being applied"));
  }
  if (receiving_[worker_rank]) {
    return absl::FailedPreconditionError(absl::StrCat("worker ", worker_rank, " is already pushing step ", step));
  }
  if (synchronous()) {
    for (int w = 0; w < config_.workers; ++w) {
      if (pushed_[w] && statistics_[w].size() != statistics.size()) {
        return absl::InvalidArgumentError(absl::StrCat("statistics: worker ", worker_rank, " sent ", statistics.size(),
                                                       " values, worker ", w, " sent ", statistics_[w].size()));
      }
    }
  }
  receiving_[worker_rank] = 1;
  statistics_[worker_rank].assign(statistics.begin(), statistics.end());
  return gradients_[worker_rank].data();
}

void ParameterShard::AbortPush(int worker_rank) {
  if (worker_rank < 0 || worker_rank >= config_.workers) return;
  absl::MutexLock lock(&mu_);
  receiving_[worker_rank] = 0;
}

absl::StatusOr<PushOutcome> ParameterShard::FinishPush(int worker_rank, int64_t step, const CancelledFn& cancelled) {
  if (!synchronous()) {
    // The buffer is still this caller's alone: scale and measure it before locking.
    std::span<float> gradient(gradients_[worker_rank]);
    MultiplyInPlace(gradient, static_cast<float>(config_.workers));
    PushOutcome outcome;
    outcome.gradient_norm_squared = SumOfSquares(gradient);
    absl::MutexLock lock(&mu_);
    receiving_[worker_rank] = 0;
    pushed_[worker_rank] = 1;
    outcome.statistics = statistics_[worker_rank];
    changed_.SignalAll();
    return outcome;
  }
  absl::MutexLock lock(&mu_);
  receiving_[worker_rank] = 0;
  pushed_[worker_rank] = 1;
  if (std::all_of(pushed_.begin(), pushed_.end(), [](char p) { return p != 0; })) SumPushesLocked();
  // The outcome stays until the next step's sum, which needs this worker's next push.
  const absl::Status status = AwaitLocked([&] { return summed_step_ == step; }, cancelled);
  if (!status.ok()) return status;
  return sum_outcome_;
}

void ParameterShard::SumPushesLocked() {
  // Rank order, one pass per worker: ((g0 + g1) + g2) ..., whatever order they came in.
  std::span<float> sum(gradients_[0]);
  const int64_t n = range_.size;
  for (int w = 1; w < config_.workers; ++w) {
    const float* g = gradients_[w].data();
    float* s = sum.data();
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) s[i] += g[i];
  }
  sum_outcome_.gradient_norm_squared = SumOfSquares(sum);
  sum_outcome_.statistics = statistics_[0];
  for (int w = 1; w < config_.workers; ++w) {
    for (size_t i = 0; i < sum_outcome_.statistics.size(); ++i) sum_outcome_.statistics[i] += statistics_[w][i];
  }
  summed_step_ = completed_;
  changed_.SignalAll();
}

void ParameterShard::ApplyLocked(std::span<float> gradient, const StepUpdateArgs& update) {
  if (!update.accept) {
    updates_skipped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  updates_applied_.fetch_add(1, std::memory_order_relaxed);
  optimizer_.StepTensors(parameters_, gradient, update.clip_coefficient, update.learning_rate, 0,
                         optimizer_.tensor_count());
  optimizer_.FinishStep();
}

absl::StatusOr<PullView> ParameterShard::Pull(int worker_rank, int64_t step,
                                               const std::optional<StepUpdateArgs>& update,
                                               const CancelledFn& cancelled) {
  if (absl::Status status = ValidateRank(worker_rank); !status.ok()) return status;
  if (step < 0) return absl::InvalidArgumentError(absl::StrCat("step: ", step, " is negative"));
  // A rollback's checkpoint is read before locking (it is big), and only while the step
  // is still to be applied: the workers' later pulls of the step read nothing.
  std::optional<CheckpointContents> rollback_checkpoint;
  if (update.has_value() && update->rollback_to >= 0) {
    if (!synchronous()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "worker ", worker_rank, " asked parameter server ", config_.server_rank, " to roll back at step ", step,
          ": bounded-staleness servers do not roll back (the workers' updates are not in step)"));
    }
    if (update->accept || update->rollback_to > step) {
      return absl::InvalidArgumentError(absl::StrCat("update.rollback: worker ", worker_rank, " asked to roll back to ",
                                                     "step ", update->rollback_to, " at step ", step,
                                                     update->accept ? " while accepting it" : ""));
    }
    if (config_.run_dir.empty()) {
      return absl::FailedPreconditionError(absl::StrCat("parameter server ", config_.server_rank,
                                                        " has no run directory to roll back from"));
    }
    bool applied = false;
    {
      absl::MutexLock lock(&mu_);
      applied = step < completed_;
    }
    if (!applied) {
      absl::StatusOr<CheckpointContents> read = ReadCheckpoint(RollbackCheckpointDir(update->rollback_to));
      if (!read.ok()) return read.status();
      rollback_checkpoint = *std::move(read);
    }
  }
  absl::MutexLock lock(&mu_);
  if (!update.has_value()) {
    if (absl::Status status = AwaitLocked([&] { return initialized_; }, cancelled); !status.ok()) return status;
    return ViewLocked();
  }
  if (shut_down_) return absl::UnavailableError("the parameter server is shutting down");
  if (!initialized_) {
    return absl::FailedPreconditionError(absl::StrCat("worker ", worker_rank, " asked to apply step ", step,
                                                      " before the parameter server held parameters"));
  }
  return synchronous() ? PullSynchronousLocked(worker_rank, step, *update,
                                               rollback_checkpoint ? &*rollback_checkpoint : nullptr, cancelled)
                       : PullStaleLocked(worker_rank, step, *update, cancelled);
}

absl::StatusOr<PullView> ParameterShard::PullSynchronousLocked(int worker_rank, int64_t step,
                                                                const StepUpdateArgs& update,
                                                                const CheckpointContents* rollback_checkpoint,
                                                                const CancelledFn& cancelled) {
  const auto mismatch = [&](const StepUpdateArgs& applied) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "worker %d asked for step %d with learning rate %g, clip coefficient %g, accept %d, rollback to %d; "
        "it was applied with %g, %g, %d, %d",
        worker_rank, step, update.learning_rate, update.clip_coefficient, update.accept, update.rollback_to,
        applied.learning_rate, applied.clip_coefficient, applied.accept, applied.rollback_to));
  };
  if (step == completed_ - 1) {
    if (last_update_.has_value() && !(*last_update_ == update)) return mismatch(*last_update_);
    return ViewLocked();
  }
  if (step != completed_) {
    return absl::InvalidArgumentError(absl::StrCat("step: worker ", worker_rank, " asked to apply step ", step,
                                                   "; the parameter server has completed ", completed_, " steps"));
  }
  if (absl::Status status = AwaitLocked([&] { return summed_step_ == step || completed_ > step; }, cancelled);
      !status.ok()) {
    return status;
  }
  if (completed_ > step) {  // another worker applied it while this one waited
    if (last_update_.has_value() && !(*last_update_ == update)) return mismatch(*last_update_);
    return ViewLocked();
  }
  if (update.rollback_to >= 0) return RollBackLocked(step, update, rollback_checkpoint);
  completed_ = step + 1;
  last_update_ = update;
  std::fill(pushed_.begin(), pushed_.end(), 0);
  if (update.accept) {
    // The updater thread applies it while this and the other workers' pulls stream.
    updates_applied_.fetch_add(1, std::memory_order_relaxed);
    applying_ = true;
    updated_floats_ = 0;
    pending_update_ = update;
  } else {
    updates_skipped_.fetch_add(1, std::memory_order_relaxed);
    MaybeCheckpointLocked(completed_);
  }
  changed_.SignalAll();
  return ViewLocked();
}

absl::StatusOr<PullView> ParameterShard::RollBackLocked(int64_t step, const StepUpdateArgs& update,
                                                         const CheckpointContents* checkpoint) {
  if (checkpoint == nullptr) {  // Pull saw the step applied, yet here it is not: a restart in between
    return absl::FailedPreconditionError(absl::StrCat("parameter server ", config_.server_rank, ": step ", step,
                                                      " changed while its rollback checkpoint was being read"));
  }
  // The step is this caller's to apply: later pulls of it see applying_ and wait for the
  // values, as during an update; pulls of the previous step still streaming end first.
  completed_ = step + 1;
  last_update_ = update;
  std::fill(pushed_.begin(), pushed_.end(), 0);
  applying_ = true;
  updated_floats_ = 0;
  absl::Status status = AwaitLocked([this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !OlderViewsOpenLocked(); },
                                    nullptr);
  if (status.ok()) status = LoadRangeLocked(*checkpoint);  // checked already: cannot fail
  applying_ = false;
  changed_.SignalAll();
  if (!status.ok()) return status;
  updated_floats_ = range_.size;
  updates_skipped_.fetch_add(1, std::memory_order_relaxed);
  rollbacks_.fetch_add(1, std::memory_order_relaxed);
  MaybeCheckpointLocked(completed_);
  return ViewLocked();
}

absl::StatusOr<PullView> ParameterShard::PullStaleLocked(int worker_rank, int64_t step, const StepUpdateArgs& update,
                                                          const CancelledFn& cancelled) {
  int64_t& clock = clock_[worker_rank];
  if (step == clock - 1) {
    const std::optional<StepUpdateArgs>& applied = worker_last_update_[worker_rank];
    if (applied.has_value() && !(*applied == update)) {
      return absl::FailedPreconditionError(
          absl::StrCat("worker ", worker_rank, " asked again for step ", step, " with another update"));
    }
  } else if (step == clock && pushed_[worker_rank]) {
    ApplyLocked(gradients_[worker_rank], update);
    pushed_[worker_rank] = 0;
    ++clock;
    worker_last_update_[worker_rank] = update;
    changed_.SignalAll();
    const int64_t slowest = MinClockLocked();
    if (slowest > checkpointed_clock_) {
      checkpointed_clock_ = slowest;
      MaybeCheckpointLocked(slowest);
    }
  } else {
    return absl::InvalidArgumentError(absl::StrCat("step: worker ", worker_rank, " asked to apply step ", step,
                                                   "; it has pushed ", clock + pushed_[worker_rank],
                                                   " steps and ", clock, " are applied"));
  }
  const int64_t bound = step + 1 - config_.max_staleness;
  if (absl::Status status = AwaitLocked([&] { return MinClockLocked() >= bound; }, cancelled); !status.ok()) {
    return status;
  }
  return ViewLocked();
}

void ParameterShard::MaybeCheckpointLocked(int64_t step) {
  if (config_.run_dir.empty()) return;
  const bool due = (config_.checkpoint_every_steps > 0 && step % config_.checkpoint_every_steps == 0) ||
                   (config_.total_steps > 0 && step == config_.total_steps);
  if (!due) return;
  absl::StatusOr<std::vector<CheckpointFile>> files = WritePartLocked(config_.run_dir, step);
  if (config_.on_checkpoint_part) config_.on_checkpoint_part(step, files);
}

absl::StatusOr<std::vector<CheckpointFile>> ParameterShard::WriteCheckpointPart(const std::string& run_dir,
                                                                                 int64_t step) {
  absl::MutexLock lock(&mu_);
  if (applying_) {  // the step's part is due when its update is complete
    if (absl::Status status = AwaitLocked([&] { return !applying_; }, nullptr); !status.ok()) return status;
  }
  const int64_t current = synchronous() ? completed_ : MinClockLocked();
  if (!initialized_ || step != current) {
    return absl::FailedPreconditionError(absl::StrCat("parameter server ", config_.server_rank,
                                                      ": a checkpoint of step ", step, " was asked for, it is at step ",
                                                      current, initialized_ ? "" : " without parameters"));
  }
  return WritePartLocked(run_dir, step);
}

absl::StatusOr<std::vector<CheckpointFile>> ParameterShard::WritePartLocked(const std::string& run_dir, int64_t step) {
  CheckpointPart part;
  part.step = step;
  part.optimizer_step = optimizer_.step_count();
  part.part_name = PartName();
  part.first_tensor = tensors_.first;
  part.end_tensor = tensors_.second;
  part.parameters = parameters_;
  part.exp_avg = optimizer_.exp_avg();
  part.exp_avg_sq = optimizer_.exp_avg_sq();
  return cloze::WriteCheckpointPart(run_dir, part, config_.layout);
}

void ParameterShard::Shutdown() {
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
  changed_.SignalAll();
}

}  // namespace cloze
