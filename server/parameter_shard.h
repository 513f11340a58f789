// The state of one parameter server, without the transport: the parameters and optimizer
// state of its tensor range, the workers' gradients in flight, and the step protocol.
// server/parameter_server.h serves it over gRPC; tests may drive it directly.
//
// Steps are numbered from 0: step t is the update computed from the parameters after t
// completed steps. completed_steps() is what a checkpoint of this state is named by.
//
// SYNCHRONOUS (every step applies every worker's gradient of that step):
//   Push(t) from each of the W workers; the server keeps each gradient, and when the W-th
//   is in, sums them in rank order ((g0 + g1) + g2 ..., float, so the result does not
//   depend on arrival order; for 2 workers it is bitwise MPI's sum) and answers every
//   pusher with the sum of squares of the summed gradient over its range and the
//   element-wise sum of the statistics. Pull(t, update) applies the update once (the
//   first caller): gradient × clip_coefficient (float, as kernels/cpu/clip.h scales), then
//   Optimizer::Step with the learning rate, or nothing when update.accept is false; every
//   later Pull(t) must carry the same update (FailedPrecondition naming the worker
//   otherwise) and gets the same parameters. The update runs on the shard's updater
//   thread, a group of whole tensors at a time (Optimizer::StepTensors), while the pulls
//   stream: Pull returns at once and its PullView's AwaitValues waits for the tensors a
//   chunk covers. Optimizer::Step over a sub-layout of whole
//   tensors is bitwise the full-buffer Step on those tensors (LAMB's norms are per
//   tensor, blocks start at each tensor), so the servers together compute exactly what
//   the all-reduce trainer computes; only the clip coefficient may differ in the last bit,
//   because the global norm is summed per server here.
//   Rollback (the loss guard's kRollback): an update with rollback_to = N >= 0 (and accept
//   false) is applied like any update, once, by the first Pull(t): it drops the step's
//   gradient, reloads the range's parameters, moments and optimizer step count from the
//   committed checkpoint <run_dir>/checkpoints/step-N (RestoreFrom's loading) and
//   completes step t; the step count goes on, and a checkpoint part due at t + 1 is
//   written after the reload. The checkpoint is read before the shard is touched: one it
//   cannot read refuses the Pull (the load's status, naming the server and the path) and
//   leaves the shard as it was, step t unapplied. Every Pull(t) carries the same update,
//   so later ones read nothing and return the restored parameters.
//
// BOUNDED_STALENESS (max_staleness k):
//   Push(t) stores the worker's gradient multiplied by W and answers at once with that
//   gradient's sum of squares and the worker's own statistics. Why × W: workers normalise
//   by the GLOBAL prediction count, so one worker's gradient is about 1/W of the global
//   gradient; × W makes it an unbiased estimate of it, so max_grad_norm, ε and the
//   learning rate mean what they mean in synchronous mode. The worker sums its squares
//   over the servers, so its clip coefficient comes from the norm of its WHOLE gradient
//   (all servers), not of the global (all workers) gradient as in synchronous mode.
//   Pull(t, update) applies that worker's gradient (× clip, Optimizer::Step) at once; the
//   optimizer therefore steps W times per global step. Each worker has a clock, the
//   number of its steps applied (its pushes must come in step order). Pull(t) then waits
//   until every worker's clock is >= t + 1 − k before returning parameters: the
//   parameters a worker computes step t + 1 from include every worker's gradients of
//   steps <= t − k, i.e. they lag by at most k steps. (This implies the server's version,
//   the number of gradients applied, is >= W·(t + 1 − k); the per-worker clock is the
//   stricter bound: a fast worker's gradients cannot stand in for a slow one's.)
//   No rollback: each worker's updates are applied as they come, so there is no step at
//   which every worker's view could go back together; a rollback_to is FailedPrecondition.
//
// Initialisation: the shard starts without parameters. InitializeFrom / the Init stream
// (worker rank 0, fresh run) or RestoreFrom (a committed checkpoint) gives it some; Pull
// without an update waits for that, Push before it is FailedPrecondition.
//
// Errors: InvalidArgument naming the field for a bad worker rank, step or statistics
// size; FailedPrecondition for calls that are valid but out of turn (a second push of
// the same step, a mismatched update, no parameters yet); Cancelled when the caller gave
// up while waiting; Unavailable after Shutdown.
//
// Thread safety: every method may be called from any thread. Waits poll the caller's
// `cancelled` every 100 ms. Synchronous shards own one updater thread (joined by the
// destructor); while it applies step t, a push of step t + 1 is FailedPrecondition (a
// worker cannot have received step t's parameters yet), and WriteCheckpointPart and
// RestoreFrom wait for it to finish.
#ifndef CLOZE_SERVER_PARAMETER_SHARD_H_
#define CLOZE_SERVER_PARAMETER_SHARD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/checkpoint.pb.h"
#include "proto/train_config.pb.h"
#include "rpc/tensor_partition.h"
#include "checkpoint/checkpoint.h"
#include "kernels/cpu/optimizer.h"
#include "model/parameter_layout.h"

namespace cloze {

struct ShardConfig {
  ParameterLayout layout;      // the whole model's
  int server_rank = 0;         // this shard: PartitionTensors(layout, num_servers)[server_rank]
  int num_servers = 1;
  OptimizerConfig optimizer;   // must be valid (ValidateOptimizerConfig)
  int workers = 1;             // W >= 1
  DistributedConfig::Consistency consistency = DistributedConfig::SYNCHRONOUS;
  int max_staleness = 0;       // k >= 0, bounded staleness only
  // Synchronous: the updater publishes progress after groups of whole tensors of at least
  // this many floats (>= 1): coarse enough that per-group costs (two OpenMP regions, a
  // lock) vanish, fine against a pull chunk of 1M floats. Tests make it 1 (every tensor).
  int64_t update_group_floats = int64_t{1} << 18;

  // Checkpoint parts written by the shard itself after applying a step N that is due
  // (N % every_steps == 0, or N == total_steps); empty run_dir: never. In bounded
  // staleness, "after step N" is when the slowest worker's clock reaches N; the part then
  // holds up to k later steps of faster workers (a consistent cut does not exist there).
  std::string run_dir;
  int64_t checkpoint_every_steps = 0;
  int64_t total_steps = 0;
  // Called after each such part, with the written files or the error; from the thread
  // that applied the step, with the shard locked (keep it short: report and return).
  std::function<void(int64_t step, const absl::StatusOr<std::vector<CheckpointFile>>&)> on_checkpoint_part;
};

struct StepUpdateArgs {
  float learning_rate = 0;
  float clip_coefficient = 1;
  bool accept = true;
  // The loss guard's rollback (synchronous only): the committed checkpoint's step to go
  // back to; -1: none. See the top of this file.
  int64_t rollback_to = -1;
  bool operator==(const StepUpdateArgs&) const = default;
};

struct PushOutcome {
  double gradient_norm_squared = 0;
  std::vector<double> statistics;
};

using CancelledFn = std::function<bool()>;

class ParameterShard;

// The parameters a Pull returns. Synchronous: a view of the shard's buffer, registered
// with the shard: no later step is written while it lives, and while the step it names
// is still being applied its values become final front to back (AwaitValues). Bounded
// staleness: a copy, final at once. Move-only; the shard must outlive it.
class PullView {
 public:
  PullView() = default;
  PullView(PullView&& other) noexcept { *this = std::move(other); }
  PullView& operator=(PullView&& other) noexcept;
  ~PullView() { Release(); }

  int64_t completed_steps() const { return completed_steps_; }
  // The range's parameters after completed_steps() steps; only the prefix that
  // AwaitValues has returned for is final.
  std::span<const float> values() const { return values_; }
  // Waits until values()[0, end) are final. Cancelled when `cancelled` says so,
  // Unavailable after the shard's Shutdown (waits poll `cancelled` every 100 ms).
  absl::Status AwaitValues(int64_t end, const CancelledFn& cancelled) const;

 private:
  friend class ParameterShard;
  void Release();

  ParameterShard* shard_ = nullptr;  // registered with it (synchronous views)
  int64_t completed_steps_ = 0;
  std::span<const float> values_;
  std::vector<float> snapshot_;
};

class ParameterShard {
 public:
  // InvalidArgument naming the field for an invalid config.
  static absl::StatusOr<std::unique_ptr<ParameterShard>> Create(ShardConfig config);
  ~ParameterShard();  // Shutdown(), then joins the updater thread

  int server_rank() const { return config_.server_rank; }
  std::pair<int, int> tensors() const { return tensors_; }
  FloatRange range() const { return range_; }
  int64_t completed_steps() const;
  bool initialized() const;
  std::string PartName() const;  // "ps-0000s-of-0000M"

  // Fresh run, in process: the range's slice of the whole model's parameters.
  // FailedPrecondition when the shard holds parameters already.
  absl::Status InitializeFrom(std::span<const float> full_parameters);
  // The Init stream: BeginInit returns the buffer to fill (range().size floats; only the
  // caller writes it until FinishInit), FinishInit(true) publishes it at step 0,
  // FinishInit(false) abandons it.
  absl::StatusOr<float*> BeginInit(int worker_rank);
  void FinishInit(bool complete);

  // Loads the range from a checkpoint's whole-model contents (parameters, moments, the
  // optimizer's step) and sets completed_steps() to contents.step; gradients in flight
  // are dropped. Call it before workers connect (or while they are all stopped).
  absl::Status RestoreFrom(const CheckpointContents& contents);
  // RestoreFrom(LoadCheckpoint(checkpoint_dir)): DataLoss when damaged, FailedPrecondition
  // when it holds another model (checkpoint/checkpoint.h).
  absl::Status RestoreFromCheckpoint(const std::string& checkpoint_dir);

  // A push: BeginPush validates and returns the worker's gradient buffer (range().size
  // floats, written only by this caller until FinishPush or AbortPush).
  absl::StatusOr<float*> BeginPush(int worker_rank, int64_t step, std::span<const double> statistics);
  void AbortPush(int worker_rank);
  // The buffer is complete: synchronous, waits for the other workers' pushes.
  absl::StatusOr<PushOutcome> FinishPush(int worker_rank, int64_t step, const CancelledFn& cancelled);

  // See the top of this file; no update: waits for parameters and returns them.
  absl::StatusOr<PullView> Pull(int worker_rank, int64_t step, const std::optional<StepUpdateArgs>& update,
                                const CancelledFn& cancelled);

  // Writes this shard's checkpoint part of `step` (checkpoint/checkpoint_parts.h) into
  // run_dir. FailedPrecondition unless step == completed_steps() (synchronous) or the
  // slowest worker's clock (bounded staleness).
  absl::StatusOr<std::vector<CheckpointFile>> WriteCheckpointPart(const std::string& run_dir, int64_t step);

  // Wakes every waiter with Unavailable; later calls fail the same way.
  void Shutdown();

  // Optimizer updates applied, and steps (per worker in bounded staleness) the guard
  // skipped (rollbacks included), and rollbacks; for metrics.
  int64_t updates_applied() const { return updates_applied_.load(std::memory_order_relaxed); }
  int64_t updates_skipped() const { return updates_skipped_.load(std::memory_order_relaxed); }
  int64_t rollbacks() const { return rollbacks_.load(std::memory_order_relaxed); }

 private:
  friend class PullView;
  explicit ParameterShard(ShardConfig config);

  absl::Status ValidateRank(int worker_rank) const;
  // The whole model's contents of a checkpoint, checked to fit the layout; errors name
  // this server and the directory.
  absl::StatusOr<CheckpointContents> ReadCheckpoint(const std::string& checkpoint_dir) const;
  std::string RollbackCheckpointDir(int64_t checkpoint_step) const;
  // Replaces the range's parameters, moments and optimizer step with those of `contents`
  // (checked by ReadCheckpoint). The caller makes sure nobody else reads or writes them.
  absl::Status LoadRangeLocked(const CheckpointContents& contents) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Synchronous: applies a rollback update to step completed_ (the caller checked it is
  // due), from `checkpoint` (nullptr: not read, an error).
  absl::StatusOr<PullView> RollBackLocked(int64_t step, const StepUpdateArgs& update,
                                          const CheckpointContents* checkpoint) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  int64_t MinClockLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits for `ready` (true) or returns Cancelled / Unavailable.
  absl::Status AwaitLocked(const std::function<bool()>& ready, const CancelledFn& cancelled)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void SumPushesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ApplyLocked(std::span<float> gradient, const StepUpdateArgs& update) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Synchronous: the updater thread's loop, and one overlapped update of the summed
  // gradient (step completed_ − 1, already counted as completed).
  void RunUpdater();
  void ApplyOverlapped(const StepUpdateArgs& update) ABSL_LOCKS_EXCLUDED(mu_);
  bool OlderViewsOpenLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status AwaitValues(int64_t completed_steps, int64_t end, const CancelledFn& cancelled) ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseView(int64_t completed_steps) ABSL_LOCKS_EXCLUDED(mu_);
  void MaybeCheckpointLocked(int64_t step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::vector<CheckpointFile>> WritePartLocked(const std::string& run_dir, int64_t step)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<PullView> ViewLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<PullView> PullSynchronousLocked(int worker_rank, int64_t step, const StepUpdateArgs& update,
                                                 const CheckpointContents* rollback_checkpoint,
                                                 const CancelledFn& cancelled) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<PullView> PullStaleLocked(int worker_rank, int64_t step, const StepUpdateArgs& update,
                                           const CancelledFn& cancelled) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool synchronous() const { return config_.consistency == DistributedConfig::SYNCHRONOUS; }

  const ShardConfig config_;
  const std::pair<int, int> tensors_;
  const FloatRange range_;
  const ParameterLayout sub_layout_;

  mutable absl::Mutex mu_;
  absl::CondVar changed_;  // any state change waiters may be waiting for
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
  bool initialized_ ABSL_GUARDED_BY(mu_) = false;
  bool init_receiving_ ABSL_GUARDED_BY(mu_) = false;
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;  // synchronous: steps applied or being applied

  // Written under mu_ while no synchronous view is open (open_views_ counts them by the
  // step they show; bounded-staleness views are copies), or by the updater thread while
  // applying_ (outside mu_; the first updated_floats_ are final and no longer written),
  // or by a rollback while applying_ (under mu_, updated_floats_ 0 until it is done).
  // optimizer_ likewise: used under mu_ while !applying_, else by the updater alone.
  std::vector<float> parameters_;
  Optimizer optimizer_;
  std::map<int64_t, int> open_views_ ABSL_GUARDED_BY(mu_);

  // Synchronous overlapped update: step completed_ − 1 is being applied (pulls of it
  // stream as updated_floats_ grows); pending_update_ is the updater thread's next job.
  bool applying_ ABSL_GUARDED_BY(mu_) = false;
  int64_t updated_floats_ ABSL_GUARDED_BY(mu_) = 0;
  std::optional<StepUpdateArgs> pending_update_ ABSL_GUARDED_BY(mu_);
  std::thread updater_;

  // Per worker. Gradient buffers are written outside mu_ by the one pusher that owns
  // them (receiving_); synchronous: the sum lands in gradients_[0].
  std::vector<std::vector<float>> gradients_;
  std::vector<char> receiving_ ABSL_GUARDED_BY(mu_);
  std::vector<char> pushed_ ABSL_GUARDED_BY(mu_);  // gradient of the current step in
  std::vector<std::vector<double>> statistics_ ABSL_GUARDED_BY(mu_);

  // Synchronous: the step whose pushes are summed (-1: none yet) and its outcome, kept
  // after the step is applied for pushers not yet woken; the update applied for step
  // completed_ − 1 (none after a restore).
  int64_t summed_step_ ABSL_GUARDED_BY(mu_) = -1;
  PushOutcome sum_outcome_ ABSL_GUARDED_BY(mu_);
  std::optional<StepUpdateArgs> last_update_ ABSL_GUARDED_BY(mu_);

  // Bounded staleness: steps applied per worker, and each one's last update.
  std::vector<int64_t> clock_ ABSL_GUARDED_BY(mu_);
  std::vector<std::optional<StepUpdateArgs>> worker_last_update_ ABSL_GUARDED_BY(mu_);
  int64_t checkpointed_clock_ ABSL_GUARDED_BY(mu_) = 0;

  std::atomic<int64_t> updates_applied_{0}, updates_skipped_{0}, rollbacks_{0};
};

// Σ x² in double over fixed 32768-element blocks summed in order (as kernels/cpu/clip.h's
// GlobalNorm, without the square root): thread-count independent.
double SumOfSquares(std::span<const float> values);

}  // namespace cloze

#endif  // CLOZE_SERVER_PARAMETER_SHARD_H_
