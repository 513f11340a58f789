// The coordinator's calls during a running generation: rendezvous, checkpoint parts and
// their commit, waiting for a commit, and Finish.
#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "server/coordinator.h"
#include "server/coordinator_checkpoints.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_retention.h"

namespace cloze {
namespace {

constexpr size_t kMaxRendezvousKeyBytes = 256;
constexpr size_t kMaxRendezvousValueBytes = 64 << 10;

}  // namespace

absl::StatusOr<JobCoordinator::Member*> JobCoordinator::RunningMemberLocked(const std::string& member_id,
                                                                      int64_t generation) {
  if (member_id.empty()) return absl::InvalidArgumentError("member_id: must not be empty");
  if (generation != generation_) {
    return absl::FailedPreconditionError(absl::StrCat("generation ", generation, " has ended (the job is at ",
                                                      generation_, ")",
                                                      last_failure_.empty() ? "" : absl::StrCat(": ", last_failure_)));
  }
  auto found = members_.find(member_id);
  if (found == members_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("member ", member_id, " is not in generation ", generation_));
  }
  if (state_ != RUNNING) {
    return absl::FailedPreconditionError(absl::StrCat("the job is ", JobState_Name(state_), ", not RUNNING"));
  }
  return &found->second;
}

absl::StatusOr<RendezvousResponse> JobCoordinator::Rendezvous(const RendezvousRequest& request, absl::Time deadline,
                                                           const CancelledFn& cancelled) {
  if (request.key().empty() || request.key().size() > kMaxRendezvousKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("key: must be 1 to ", kMaxRendezvousKeyBytes, " bytes"));
  }
  if (request.value().size() > kMaxRendezvousValueBytes) {
    return absl::InvalidArgumentError(absl::StrCat("value: at most ", kMaxRendezvousValueBytes, " bytes"));
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Member*> member = RunningMemberLocked(request.member_id(), request.generation());
  if (!member.ok()) return member.status();
  RendezvousResponse response;
  if (request.publish()) {
    auto [entry, inserted] = rendezvous_.emplace(request.key(), request.value());
    if (!inserted && entry->second != request.value()) {
      return absl::AlreadyExistsError(
          absl::StrCat("key: \"", request.key(), "\" was published with another value in this generation"));
    }
    if (inserted) {
      PersistLocked();
      changed_.SignalAll();
    }
    response.set_value(request.value());
    return response;
  }
  const int64_t generation = generation_;
  absl::Status waited = WaitLocked(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return generation_ != generation || rendezvous_.contains(request.key());
      },
      deadline, cancelled);
  if (!waited.ok()) return waited;
  if (generation_ != generation) {
    return absl::AbortedError(absl::StrCat("generation ", generation, " ended while waiting for \"", request.key(),
                                           "\": ", last_failure_));
  }
  response.set_value(rendezvous_.at(request.key()));
  return response;
}

absl::Status JobCoordinator::ReportCheckpointPart(const CheckpointPartReport& report) {
  if (report.step() < 0) return absl::InvalidArgumentError(absl::StrCat("step: must be >= 0, got ", report.step()));
  if (absl::Status status = ValidateReportedFiles(report.files(), "files"); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Member*> member = RunningMemberLocked(report.member_id(), report.generation());
  if (!member.ok()) return member.status();
  if (!last_committed_path_.empty() && report.step() <= last_committed_step_) return absl::OkStatus();  // a retry
  const bool rank0_worker = (*member)->role == WORKER && (*member)->rank == 0;
  if (rank0_worker != report.has_manifest()) {
    return absl::InvalidArgumentError(rank0_worker ? "manifest: worker rank 0 must send the checkpoint's manifest"
                                                   : "manifest: only worker rank 0 sends the manifest");
  }
  if (committing_.contains(report.step())) return absl::OkStatus();  // every part is in already
  std::map<std::string, CheckpointPartReport>& parts = pending_parts_[report.step()];
  for (const CheckpointFile& file : report.files()) {
    for (const auto& [other_id, other] : parts) {
      if (other_id == report.member_id()) continue;
      for (const CheckpointFile& theirs : other.files()) {
        if (theirs.name() == file.name()) {
          return absl::InvalidArgumentError(absl::StrCat("files: \"", file.name(), "\" was reported by ", other_id,
                                                         " already for step ", report.step()));
        }
      }
    }
  }
  parts[report.member_id()] = report;
  PersistLocked();
  return CommitIfCompleteLocked(report.step());
}

absl::Status JobCoordinator::CommitIfCompleteLocked(int64_t step) {
  auto found = pending_parts_.find(step);
  if (found == pending_parts_.end() || committing_.contains(step)) return absl::OkStatus();
  const std::map<std::string, CheckpointPartReport>& parts = found->second;
  for (const auto& [id, member] : members_) {
    if (!parts.contains(id)) return absl::OkStatus();  // a part is missing: never commit
  }
  // Workers then servers, each by rank: the manifest lists files in a stable order.
  std::vector<const Member*> ordered;
  for (const auto& [id, member] : members_) ordered.push_back(&member);
  std::sort(ordered.begin(), ordered.end(), [](const Member* a, const Member* b) {
    return std::make_pair(a->role, a->rank) < std::make_pair(b->role, b->rank);
  });
  const CheckpointManifest* rank0_manifest = nullptr;
  std::vector<const google::protobuf::RepeatedPtrField<CheckpointFile>*> files;
  for (const Member* member : ordered) {
    const CheckpointPartReport& part = parts.at(member->id);
    if (part.has_manifest()) rank0_manifest = &part.manifest();
    files.push_back(&part.files());
  }
  absl::StatusOr<CheckpointManifest> manifest =
      rank0_manifest == nullptr ? absl::InternalError("no manifest among the parts")
                                : MergeCheckpointParts(step, *rank0_manifest, files);
  absl::StatusOr<std::string> committed = absl::UnknownError("not committed");
  committing_.insert(step);
  if (!manifest.ok()) {
    committed = manifest.status();
  } else {
    // The file work runs without mu_: heartbeats must not wait for fsyncs.
    mu_.Unlock();
    {
      absl::MutexLock commit_lock(&commit_mu_);
      committed = options_.commit_checkpoint(options_.run_dir, *manifest);
      if (absl::IsAlreadyExists(committed.status())) {  // committed before a coordinator restart
        committed = absl::StrCat(options_.run_dir, "/", kCheckpointsDirName, "/", CheckpointDirName(step));
      }
      if (committed.ok()) {
        const CheckpointConfig& retention = options_.config.checkpoint();
        // As the single-process writer does: nothing to prune without keep_last. Newer
        // partial directories (members writing the next step) are left alone.
        absl::Status pruned = retention.keep_last() > 0 ? PruneCheckpoints(options_.run_dir, retention.keep_last(),
                                                                           retention.keep_every())
                                                        : absl::OkStatus();
        if (!pruned.ok()) {
          absl::MutexLock lock(&mu_);
          LogLocked(absl::StrCat("warning: retention after step ", step, ": ", pruned.message()));
        }
      }
    }
    mu_.Lock();
  }
  committing_.erase(step);
  pending_parts_.erase(step);
  if (!committed.ok()) {
    failed_commits_[step] = committed.status();
    LogLocked(absl::StrCat("checkpoint of step ", step, " NOT committed: ", committed.status().message()));
    PersistLocked();
    changed_.SignalAll();
    return committed.status();
  }
  RecordCommitLocked(step, *committed);
  return absl::OkStatus();
}

void JobCoordinator::RecordCommitLocked(int64_t step, const std::string& path) {
  LogLocked(absl::StrCat("committed the checkpoint of step ", step, ": ", path));
  if (step >= last_committed_step_) {
    last_committed_step_ = step;
    last_committed_path_ = path;
    last_committed_unix_seconds_ = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  }
  for (auto it = pending_parts_.begin(); it != pending_parts_.end() && it->first <= step;) {
    it = committing_.contains(it->first) ? std::next(it) : pending_parts_.erase(it);
  }
  FinishIfDoneLocked();
  PersistLocked();
  changed_.SignalAll();
}

absl::StatusOr<WaitForCheckpointResponse> JobCoordinator::WaitForCheckpoint(const WaitForCheckpointRequest& request,
                                                                         absl::Time deadline,
                                                                         const CancelledFn& cancelled) {
  if (request.step() < 0) return absl::InvalidArgumentError(absl::StrCat("step: must be >= 0, got ", request.step()));
  absl::MutexLock lock(&mu_);
  const int64_t generation = request.generation() > 0 ? request.generation() : generation_;
  const auto committed = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return last_committed_step_ >= request.step(); };
  absl::Status waited = WaitLocked(
      [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return committed() || failed_commits_.contains(request.step()) ||
               (generation_ != generation && !committing_.contains(request.step()));
      },
      deadline, cancelled);
  if (!waited.ok()) return waited;
  if (!committed()) {
    if (auto failed = failed_commits_.find(request.step()); failed != failed_commits_.end()) return failed->second;
    return absl::AbortedError(absl::StrCat("generation ", generation, " ended before step ", request.step(),
                                           " was committed: ", last_failure_));
  }
  WaitForCheckpointResponse response;
  response.set_committed_step(last_committed_step_);
  response.set_path(last_committed_path_);
  return response;
}

absl::Status JobCoordinator::Finish(const FinishRequest& request) {
  if (request.step() < 0) return absl::InvalidArgumentError(absl::StrCat("step: must be >= 0, got ", request.step()));
  absl::MutexLock lock(&mu_);
  if (state_ == FINISHED) return absl::OkStatus();
  absl::StatusOr<Member*> member = RunningMemberLocked(request.member_id(), request.generation());
  if (!member.ok()) return member.status();
  (*member)->finished = true;
  (*member)->finish_step = request.step();
  (*member)->last_seen = absl::Now();
  LogLocked(absl::StrCat(((*member)->role == WORKER ? "worker" : "server"), " rank ", (*member)->rank,
                         " finished at step ", request.step()));
  FinishIfDoneLocked();
  PersistLocked();
  changed_.SignalAll();
  return absl::OkStatus();
}

void JobCoordinator::FinishIfDoneLocked() {
  if (state_ != RUNNING) return;
  int64_t final_step = 0;
  for (const auto& [id, member] : members_) {
    if (member.role != WORKER) continue;
    if (!member.finished) return;
    final_step = std::max(final_step, member.finish_step);
  }
  if (last_committed_step_ < final_step) return;  // the final checkpoint is not in yet
  state_ = FINISHED;
  LogLocked(absl::StrCat("the job finished at step ", final_step, "; last checkpoint ", last_committed_path_));
}

}  // namespace cloze
