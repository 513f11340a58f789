// The job's coordinator, without transport: membership and ranks, generations, failure
// detection, rendezvous, coordinated checkpoints and the end of the job.
// server/coordinator_server.h serves it over gRPC; proto/coordinator.proto has the messages.
//
// Generations. The job has world_size workers and num_servers parameter servers. Members
// register; when all have, the generation forms (state RUNNING) and every Register returns
// with the member's rank and the resume point (the last committed checkpoint when the
// generation formed). A generation ends when a member is silent longer than the failure
// timeout, or when a new member registers while it runs (all ranks are held, so someone was
// restarted): generation + 1, state FORMING, membership cleared. Members of the ended
// generation then get ABORT on their heartbeats and FAILED_PRECONDITION on their reports;
// their replacements register and form the next generation, which resumes from the last
// committed checkpoint.
//
// Checkpoints of step N are committed when every member of the current generation has
// reported its part of N; worker rank 0's report carries the manifest. Parts of an ended
// generation are dropped, so a checkpoint is never committed with a part missing.
//
// The job is FINISHED once every worker called Finish and a checkpoint at or after the
// largest finishing step is committed. Members that finished are no longer watched for
// silence (they may exit).
//
// State (everything but heartbeat times and figures) is saved to
// <run_dir>/coordinator/state.pb.txt on every change; a coordinator created on the same
// run_dir carries on, giving every member a fresh failure timeout. A save that fails stops
// the coordinator (persist_error()).
//
// Thread safety: every method may be called concurrently. Long polls (Register,
// Rendezvous, WaitForCheckpoint) block until their deadline at most, and return
// Unavailable once Stop() was called.
#ifndef CLOZE_SERVER_COORDINATOR_H_
#define CLOZE_SERVER_COORDINATOR_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "proto/coordinator.pb.h"
#include "proto/train_config.pb.h"

namespace cloze {

struct CoordinatorOptions {
  TrainConfig config;  // validated by the caller (ValidateTrainConfig)
  std::string run_dir;
  // Publishes a checkpoint whose parts are all in and returns its directory. Empty:
  // CommitCheckpoint (checkpoint/checkpoint_parts.h). AlreadyExists counts as committed.
  std::function<absl::StatusOr<std::string>(const std::string& run_dir, const CheckpointManifest& manifest)>
      commit_checkpoint;
  // One line per event worth an operator's attention (generation formed or ended, commit,
  // finish). Empty: "[coordinator] ..." on stderr. Called with the coordinator's lock held:
  // it must not call the coordinator.
  std::function<void(const std::string&)> log;
  // The longest a long poll waits, whatever the client's deadline.
  absl::Duration max_long_poll = absl::Seconds(30);
};

// Says whether the caller of a long poll went away (gRPC's IsCancelled); may be empty.
using CancelledFn = std::function<bool()>;

class JobCoordinator {
 public:
  // Loads the saved state of options.run_dir, or starts generation 1. Either way it resumes
  // from a checkpoint that passes VerifyCheckpoint: the last committed one when it does, else
  // the newest valid one, the damaged newer ones moved aside (as cloze train does). Errors: a
  // damaged state file, an unwritable run directory, a checkpoint that cannot be read.
  static absl::StatusOr<std::unique_ptr<JobCoordinator>> Create(CoordinatorOptions options);
  ~JobCoordinator();

  // Joins the forming generation (or returns the member's answer again when it is in the
  // current one) and waits until the generation forms. InvalidArgument naming the field
  // (role, member_id, requested_rank, address); AlreadyExists when another live member holds
  // the requested rank; ResourceExhausted when every rank of the role is held by a forming
  // member; DeadlineExceeded when the deadline passes first (the member stays registered:
  // call again); OutOfRange once the job has finished (nothing left to do).
  absl::StatusOr<RegisterResponse> Register(const RegisterRequest& request, absl::Time deadline,
                                            const CancelledFn& cancelled = {});
  // CONTINUE (recording the progress figures and the metrics address), ABORT when the
  // member is not in the current generation, FINISHED when the job is. InvalidArgument for
  // an empty member_id or a metrics_address over 256 characters.
  absl::StatusOr<HeartbeatResponse> Heartbeat(const HeartbeatRequest& request);
  // publish: stores the value under (generation, key) (AlreadyExists when a different one is
  // there); else waits for it. FailedPrecondition for a member not in the running
  // generation, Aborted when the generation ends while waiting.
  absl::StatusOr<RendezvousResponse> Rendezvous(const RendezvousRequest& request, absl::Time deadline,
                                                const CancelledFn& cancelled = {});
  // Records a member's part of a checkpoint and, when it is the last one, commits the
  // checkpoint before returning (the commit's error is returned to this caller; the step is
  // then abandoned). FailedPrecondition for a stale generation or a job not running;
  // InvalidArgument for bad files, a negative step, a manifest from anyone but worker rank 0
  // or none from it. A repeated report replaces the earlier one; a report of a step already
  // committed is acknowledged and ignored.
  absl::Status ReportCheckpointPart(const CheckpointPartReport& report);
  // Waits until a checkpoint of at least request.step is committed; DeadlineExceeded, the
  // commit's error when that step's commit failed, Aborted when the generation ends first.
  absl::StatusOr<WaitForCheckpointResponse> WaitForCheckpoint(const WaitForCheckpointRequest& request,
                                                              absl::Time deadline, const CancelledFn& cancelled = {});
  // A worker is done at `step` (parameter servers may call it too; it is recorded only).
  absl::Status Finish(const FinishRequest& request);
  JobStatus GetJobStatus() const;

  // Ends the running generation when a member (not finished) has been silent longer than
  // the failure timeout; drops forming members silent that long. Either way the silent
  // members are listed in JobStatus.failed_members, for the supervisor to kill. Call it a
  // few times per heartbeat interval. When the previous call was more than half a failure
  // timeout (and two heartbeat intervals) ago, this coordinator was not running meanwhile
  // (stopped, starved): it cannot tell who was silent, so every member gets a fresh failure
  // timeout instead.
  void CheckFailures();
  // Wakes every long poll (they return Unavailable) and refuses new ones. Idempotent.
  void Stop();
  // Blocks until the job is FINISHED (true) or Stop() is called (false).
  bool WaitUntilFinished();
  // The error that stopped this coordinator when its state could not be saved (OK while it
  // can): a coordinator that cannot save stops at once (as Stop()), since a restart would
  // reuse generation numbers and forget commits. A full or read-only run folder carries
  // kExitCannotWrite (util/file_error.h).
  absl::Status persist_error() const;

  absl::Duration heartbeat_interval() const { return heartbeat_interval_; }
  absl::Duration failure_timeout() const { return failure_timeout_; }

 private:
  struct Member {
    std::string id;
    Role role = ROLE_UNSPECIFIED;
    int rank = 0;
    std::string address;
    int64_t pid = 0;
    absl::Time last_seen;
    int64_t step = 0;
    double loss = 0, tokens_per_second = 0;
    std::string metrics_address;  // from its heartbeats; not saved (the next one tells again)
    bool finished = false;
    int64_t finish_step = 0;
  };

  explicit JobCoordinator(CoordinatorOptions options);
  void RestoreLocked(const CoordinatorState& state) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Makes the checkpoint to resume from one that verifies: the saved last commit when
  // `restored` and it passes VerifyCheckpoint, else the newest valid one, the damaged newer
  // ones moved aside (checkpoint/checkpoint_fallback.h), with a line in the log for each.
  absl::Status FallBackFromDamageLocked(bool restored) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  CoordinatorState SnapshotLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PersistLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LogLocked(const std::string& line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  int SlotsOf(Role role) const;
  absl::Status ValidateRegister(const RegisterRequest& request) const;
  absl::StatusOr<int> AssignRankLocked(const RegisterRequest& request) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void DropSilentFormingMembersLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordFailedMemberLocked(const Member& member) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // True (and every member's clock restarted) when CheckFailures was not called for half a
  // failure timeout.
  bool RecoverFromPauseLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FormIfCompleteLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  RegisterResponse AnswerLocked(const Member& member) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EndGenerationLocked(const std::string& reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The current generation's running member `member_id` of generation `generation`, or
  // FailedPrecondition saying why not.
  absl::StatusOr<Member*> RunningMemberLocked(const std::string& member_id, int64_t generation)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Commits `step` when every member's part is in; releases mu_ around the file work.
  absl::Status CommitIfCompleteLocked(int64_t step) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RecordCommitLocked(int64_t step, const std::string& path) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishIfDoneLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Waits on changed_ until `done` holds; then OK. Else DeadlineExceeded, Cancelled or
  // Unavailable (stopped). `touch` runs at each wake-up (a waiting Register counts as alive).
  absl::Status WaitLocked(const std::function<bool()>& done, absl::Time deadline, const CancelledFn& cancelled,
                          const std::function<void()>& touch = {}) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const CoordinatorOptions options_;
  const int world_size_, num_servers_;
  const absl::Duration heartbeat_interval_, failure_timeout_;

  mutable absl::Mutex mu_;
  absl::CondVar changed_;  // signalled on every change a long poll may wait for
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 1;
  JobState state_ ABSL_GUARDED_BY(mu_) = FORMING;
  std::map<std::string, Member> members_ ABSL_GUARDED_BY(mu_);  // of the current generation
  int64_t resume_step_ ABSL_GUARDED_BY(mu_) = 0;
  std::string resume_checkpoint_ ABSL_GUARDED_BY(mu_);
  int64_t last_committed_step_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_committed_path_ ABSL_GUARDED_BY(mu_);
  double last_committed_unix_seconds_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t restarts_ ABSL_GUARDED_BY(mu_) = 0;
  std::string last_failure_ ABSL_GUARDED_BY(mu_);
  std::deque<MemberStatus> failed_members_ ABSL_GUARDED_BY(mu_);  // not saved: a restart forgets them
  absl::Time last_check_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  std::map<int64_t, std::map<std::string, CheckpointPartReport>> pending_parts_ ABSL_GUARDED_BY(mu_);
  std::set<int64_t> committing_ ABSL_GUARDED_BY(mu_);
  std::map<int64_t, absl::Status> failed_commits_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> rendezvous_ ABSL_GUARDED_BY(mu_);
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status persist_error_ ABSL_GUARDED_BY(mu_);  // the first failed save; stops the coordinator

  // One commit (and its pruning) at a time; taken with mu_ released.
  absl::Mutex commit_mu_;
};

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_H_
