// The coordinator's lifecycle, saved state, membership, heartbeats and failure detection.
// Checkpoints, rendezvous and Finish are in coordinator_calls.cc.
#include "server/coordinator.h"

#include "absl/time/clock.h"
#include "absl/time/time.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/coordinator_state_file.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_fallback.h"
#include "checkpoint/checkpoint_parts.h"
#include "util/exit_status.h"

namespace cloze {
namespace {

absl::Duration SecondsOr(double seconds, double fallback) {
  return absl::Seconds(seconds > 0 ? seconds : fallback);
}

const char* RoleName(Role role) { return role == PARAMETER_SERVER ? "server" : "worker"; }

}  // namespace

absl::StatusOr<std::unique_ptr<JobCoordinator>> JobCoordinator::Create(CoordinatorOptions options) {
  if (options.run_dir.empty()) return absl::InvalidArgumentError("coordinator: run_dir is required");
  if (!options.commit_checkpoint) {
    options.commit_checkpoint = [](const std::string& run_dir, const CheckpointManifest& manifest) {
      return CommitCheckpoint(run_dir, manifest);
    };
  }
  if (!options.log) {
    options.log = [](const std::string& line) {
      // Timestamped: an operator lines these up with the workers' logs after a failure.
      std::fprintf(stderr, "[coordinator %s] %s\n",
                   absl::FormatTime("%H:%M:%E3S", absl::Now(), absl::LocalTimeZone()).c_str(), line.c_str());
    };
  }
  absl::StatusOr<std::optional<CoordinatorState>> saved = LoadCoordinatorState(options.run_dir);
  if (!saved.ok()) return saved.status();
  std::unique_ptr<JobCoordinator> coordinator(new JobCoordinator(std::move(options)));
  absl::MutexLock lock(&coordinator->mu_);
  if (saved->has_value()) {
    coordinator->RestoreLocked(**saved);
  } else {
    coordinator->LogLocked(absl::StrCat("new job: ", coordinator->world_size_, " workers, ", coordinator->num_servers_,
                                        " parameter servers"));
  }
  if (absl::Status s = coordinator->FallBackFromDamageLocked(saved->has_value()); !s.ok()) return s;
  coordinator->PersistLocked();
  if (!coordinator->persist_error_.ok()) return coordinator->persist_error_;
  // A coordinator that died in the middle of a commit: the parts are all in, so finish it.
  std::vector<int64_t> pending_steps;
  for (const auto& [step, parts] : coordinator->pending_parts_) pending_steps.push_back(step);
  for (int64_t step : pending_steps) (void)coordinator->CommitIfCompleteLocked(step);
  return coordinator;
}

absl::Status JobCoordinator::FallBackFromDamageLocked(bool restored) {
  const CheckpointOptions warn_in_log{.warn = [this](const std::string& line) { LogLocked(line); }};
  if (restored && !last_committed_path_.empty()) {
    const absl::Status verified = VerifyCheckpoint(last_committed_path_);
    if (verified.ok()) return absl::OkStatus();
    if (!absl::IsDataLoss(verified) && !absl::IsNotFound(verified)) return verified;
    LogLocked(absl::StrCat("the last committed checkpoint cannot be resumed: ", verified.message()));
  }
  // What cloze train does (checkpoint/checkpoint_fallback.h): the newest valid checkpoint,
  // and the damaged newer ones moved aside so that their steps can be committed again.
  absl::StatusOr<ValidCheckpoint> valid = FindLatestValidCheckpoint(options_.run_dir, warn_in_log);
  if (!valid.ok() && !absl::IsNotFound(valid.status())) return valid.status();
  const int64_t step = valid.ok() ? valid->step : 0;
  const std::string path = valid.ok() ? valid->path : "";
  if (absl::Status s = MoveCheckpointsAsideAfter(options_.run_dir, valid.ok() ? step : -1,
                                                 [this](const std::string& line) { LogLocked(line); });
      !s.ok()) {
    return s;
  }
  const bool changed = path != last_committed_path_;
  last_committed_step_ = step;
  last_committed_path_ = path;
  if (!restored || changed) {
    LogLocked(path.empty() ? "no valid checkpoint: starting fresh" : absl::StrCat("resuming from ", path));
  }
  // Members of a running generation resumed from what is gone: they must start again.
  if (restored && changed && state_ == RUNNING) EndGenerationLocked(absl::StrCat("falling back to ", path));
  return absl::OkStatus();
}

JobCoordinator::JobCoordinator(CoordinatorOptions options)
    : options_(std::move(options)),
      world_size_(std::max(1, options_.config.distributed().workers())),
      num_servers_(std::max(0, options_.config.distributed().parameter_servers())),
      heartbeat_interval_(SecondsOr(options_.config.distributed().heartbeat_interval_seconds(), 0.5)),
      failure_timeout_(SecondsOr(options_.config.distributed().failure_timeout_seconds(), 5)) {}

JobCoordinator::~JobCoordinator() { Stop(); }

void JobCoordinator::LogLocked(const std::string& line) { options_.log(line); }

void JobCoordinator::RestoreLocked(const CoordinatorState& state) {
  generation_ = std::max<int64_t>(1, state.generation());
  state_ = state.state() == JOB_STATE_UNSPECIFIED ? FORMING : state.state();
  last_committed_step_ = state.last_committed_step();
  last_committed_path_ = state.last_committed_path();
  last_committed_unix_seconds_ = state.last_committed_unix_seconds();
  restarts_ = state.restarts();
  last_failure_ = state.last_failure();
  resume_step_ = state.resume_step();
  resume_checkpoint_ = state.resume_checkpoint();
  if (state.world_size() != world_size_ || state.num_servers() != num_servers_) {
    // The operator changed the job's shape: the saved membership means nothing now.
    generation_ += 1;
    state_ = state_ == FINISHED ? FINISHED : FORMING;
    LogLocked(absl::StrCat("restarted with ", world_size_, " workers and ", num_servers_, " servers (the state had ",
                           state.world_size(), " and ", state.num_servers(), "): generation ", generation_,
                           " forms anew"));
    return;
  }
  // Every member gets two failure timeouts: one to notice the coordinator is back (gRPC's
  // reconnect backoff), one as usual.
  const absl::Time now = absl::Now() + failure_timeout_;
  for (const CoordinatorState::Member& saved : state.members()) {
    Member& member = members_[saved.member_id()];
    member.id = saved.member_id();
    member.role = saved.role();
    member.rank = saved.rank();
    member.address = saved.address();
    member.finished = saved.finished();
    member.finish_step = saved.finish_step();
    member.pid = saved.pid();
    member.last_seen = now;
  }
  for (const CoordinatorState::PendingPart& saved : state.pending_parts()) {
    CheckpointPartReport& part = pending_parts_[saved.step()][saved.member_id()];
    part.set_member_id(saved.member_id());
    part.set_generation(generation_);
    part.set_step(saved.step());
    *part.mutable_files() = saved.files();
    if (saved.has_manifest()) *part.mutable_manifest() = saved.manifest();
  }
  for (const CoordinatorState::RendezvousEntry& entry : state.rendezvous()) rendezvous_[entry.key()] = entry.value();
  LogLocked(absl::StrCat("restarted: generation ", generation_, " (", JobState_Name(state_), ", ", members_.size(),
                         " members), last committed checkpoint step ", last_committed_step_));
}

CoordinatorState JobCoordinator::SnapshotLocked() const {
  CoordinatorState state;
  state.set_generation(generation_);
  state.set_state(state_);
  for (const auto& [id, member] : members_) {
    CoordinatorState::Member* saved = state.add_members();
    saved->set_member_id(id);
    saved->set_role(member.role);
    saved->set_rank(member.rank);
    saved->set_address(member.address);
    saved->set_finished(member.finished);
    saved->set_finish_step(member.finish_step);
    saved->set_pid(member.pid);
  }
  state.set_last_committed_step(last_committed_step_);
  state.set_last_committed_path(last_committed_path_);
  state.set_last_committed_unix_seconds(last_committed_unix_seconds_);
  state.set_restarts(restarts_);
  for (const auto& [step, parts] : pending_parts_) {
    for (const auto& [id, part] : parts) {
      CoordinatorState::PendingPart* saved = state.add_pending_parts();
      saved->set_step(step);
      saved->set_member_id(id);
      *saved->mutable_files() = part.files();
      if (part.has_manifest()) *saved->mutable_manifest() = part.manifest();
    }
  }
  for (const auto& [key, value] : rendezvous_) {
    CoordinatorState::RendezvousEntry* entry = state.add_rendezvous();
    entry->set_key(key);
    entry->set_value(value);
  }
  state.set_last_failure(last_failure_);
  state.set_world_size(world_size_);
  state.set_num_servers(num_servers_);
  state.set_resume_step(resume_step_);
  state.set_resume_checkpoint(resume_checkpoint_);
  return state;
}

void JobCoordinator::PersistLocked() {
  absl::Status status = SaveCoordinatorState(options_.run_dir, SnapshotLocked());
  if (status.ok() || !persist_error_.ok()) return;
  // Going on unsaved, a restarted coordinator would hand out this generation's number again
  // and forget commits: stop, so that nobody joins what is not saved (Register checks
  // stopped_ before answering).
  persist_error_ = WithMessagePrefix(status, "cannot save the coordinator's state: ");
  LogLocked(absl::StrCat("error: ", persist_error_.message(), "; stopping"));
  stopped_ = true;
  changed_.SignalAll();
}

absl::Status JobCoordinator::persist_error() const {
  absl::MutexLock lock(&mu_);
  return persist_error_;
}

int JobCoordinator::SlotsOf(Role role) const { return role == WORKER ? world_size_ : num_servers_; }

absl::Status JobCoordinator::ValidateRegister(const RegisterRequest& request) const {
  if (request.role() != WORKER && request.role() != PARAMETER_SERVER) {
    return absl::InvalidArgumentError(absl::StrCat("role: must be WORKER or PARAMETER_SERVER, got ", request.role()));
  }
  if (request.member_id().empty() || request.member_id().size() > 256) {
    return absl::InvalidArgumentError("member_id: must be 1 to 256 bytes");
  }
  const int slots = SlotsOf(request.role());
  if (slots == 0) {
    return absl::InvalidArgumentError("role: this job has no parameter servers (TrainConfig.distributed)");
  }
  if (request.requested_rank() < -1 || request.requested_rank() >= slots) {
    return absl::InvalidArgumentError(absl::StrCat("requested_rank: must be -1 or 0 to ", slots - 1, " (",
                                                   RoleName(request.role()), "s of the job), got ",
                                                   request.requested_rank()));
  }
  if (request.role() == PARAMETER_SERVER && (request.address().empty() || request.address().size() > 256)) {
    return absl::InvalidArgumentError("address: a parameter server must give its HOST:PORT");
  }
  return absl::OkStatus();
}

void JobCoordinator::RecordFailedMemberLocked(const Member& member) {
  MemberStatus failed;
  failed.set_member_id(member.id);
  failed.set_role(member.role);
  failed.set_rank(member.rank);
  failed.set_address(member.address);
  failed.set_pid(member.pid);
  failed.set_step(member.step);
  failed_members_.push_back(std::move(failed));
  while (failed_members_.size() > 32) failed_members_.pop_front();
}

void JobCoordinator::DropSilentFormingMembersLocked(absl::Time now) {
  for (auto it = members_.begin(); it != members_.end();) {
    if (now - it->second.last_seen > failure_timeout_) {
      RecordFailedMemberLocked(it->second);
      LogLocked(absl::StrCat("generation ", generation_, ": dropped forming ", RoleName(it->second.role), " rank ",
                             it->second.rank, " (", it->first, "): silent for ",
                             absl::FormatDuration(now - it->second.last_seen)));
      it = members_.erase(it);
    } else {
      ++it;
    }
  }
}

absl::StatusOr<int> JobCoordinator::AssignRankLocked(const RegisterRequest& request) {
  std::map<int, const Member*> taken;
  for (const auto& [id, member] : members_) {
    if (member.role == request.role()) taken[member.rank] = &member;
  }
  if (request.requested_rank() >= 0) {
    auto holder = taken.find(request.requested_rank());
    if (holder != taken.end()) {
      return absl::AlreadyExistsError(absl::StrCat(RoleName(request.role()), " rank ", request.requested_rank(),
                                                   " is held by the live member ", holder->second->id));
    }
    return request.requested_rank();
  }
  for (int rank = 0; rank < SlotsOf(request.role()); ++rank) {
    if (!taken.contains(rank)) return rank;
  }
  return absl::ResourceExhaustedError(
      absl::StrCat("all ", SlotsOf(request.role()), " ", RoleName(request.role()), " ranks are taken"));
}

void JobCoordinator::FormIfCompleteLocked() {
  int workers = 0, servers = 0;
  for (const auto& [id, member] : members_) (member.role == WORKER ? workers : servers) += 1;
  if (state_ != FORMING || workers != world_size_ || servers != num_servers_) return;
  state_ = RUNNING;
  resume_step_ = last_committed_step_;
  resume_checkpoint_ = last_committed_path_;
  LogLocked(absl::StrCat("generation ", generation_, " formed: ", workers, " workers, ", servers,
                         " servers, resuming from ", resume_checkpoint_.empty() ? "scratch" : resume_checkpoint_));
}

RegisterResponse JobCoordinator::AnswerLocked(const Member& member) const {
  RegisterResponse response;
  response.set_generation(generation_);
  response.set_rank(member.rank);
  response.set_world_size(world_size_);
  response.set_num_servers(num_servers_);
  std::vector<std::string> addresses(num_servers_);
  for (const auto& [id, other] : members_) {
    if (other.role == PARAMETER_SERVER) addresses[other.rank] = other.address;
  }
  for (const std::string& address : addresses) response.add_server_addresses(address);
  *response.mutable_config() = options_.config;
  response.set_run_dir(options_.run_dir);
  response.set_resume_step(resume_step_);
  response.set_resume_checkpoint(resume_checkpoint_);
  response.set_heartbeat_interval_seconds(absl::ToDoubleSeconds(heartbeat_interval_));
  response.set_failure_timeout_seconds(absl::ToDoubleSeconds(failure_timeout_));
  return response;
}

absl::StatusOr<RegisterResponse> JobCoordinator::Register(const RegisterRequest& request, absl::Time deadline,
                                                       const CancelledFn& cancelled) {
  if (absl::Status status = ValidateRegister(request); !status.ok()) return status;
  absl::MutexLock lock(&mu_);
  const std::string& id = request.member_id();
  while (true) {
    // OutOfRange: no steps left, a normal end for a member started late (not an error).
    if (state_ == FINISHED) return absl::OutOfRangeError("the job has finished");
    if (stopped_) return absl::UnavailableError("the coordinator is stopping");
    auto found = members_.find(id);
    if (found != members_.end()) {
      if (found->second.role != request.role()) {
        return absl::InvalidArgumentError(absl::StrCat("role: member ", id, " registered as a ",
                                                       RoleName(found->second.role)));
      }
      found->second.last_seen = absl::Now();
      if (state_ == RUNNING) return AnswerLocked(found->second);
    } else {
      if (state_ == RUNNING) {
        // Every rank is held: the newcomer replaces a process that was restarted.
        EndGenerationLocked(absl::StrCat("a new ", RoleName(request.role()), " (", id, ") registered asking for ",
                                         request.requested_rank() < 0 ? std::string("any rank")
                                                                      : absl::StrCat("rank ", request.requested_rank()),
                                         ": a member was restarted"));
      }
      DropSilentFormingMembersLocked(absl::Now());
      absl::StatusOr<int> rank = AssignRankLocked(request);
      if (!rank.ok()) return rank.status();
      Member& member = members_[id];
      member.id = id;
      member.role = request.role();
      member.rank = *rank;
      member.address = request.address();
      member.pid = request.pid();
      member.last_seen = absl::Now();
      LogLocked(absl::StrCat("generation ", generation_, ": ", RoleName(member.role), " rank ", member.rank, " is ", id,
                             member.address.empty() ? "" : absl::StrCat(" at ", member.address)));
      FormIfCompleteLocked();
      PersistLocked();
      changed_.SignalAll();
      continue;
    }
    const int64_t generation = generation_;
    absl::Status waited = WaitLocked(
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return state_ != FORMING || generation_ != generation || !members_.contains(id);
        },
        deadline, cancelled,
        [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          if (auto it = members_.find(id); it != members_.end()) it->second.last_seen = absl::Now();
        });
    if (!waited.ok()) return waited;
  }
}

absl::StatusOr<HeartbeatResponse> JobCoordinator::Heartbeat(const HeartbeatRequest& request) {
  if (request.member_id().empty()) return absl::InvalidArgumentError("member_id: must not be empty");
  if (request.metrics_address().size() > 256) {
    return absl::InvalidArgumentError("metrics_address: longer than 256 characters");
  }
  absl::MutexLock lock(&mu_);
  HeartbeatResponse response;
  response.set_generation(generation_);
  if (state_ == FINISHED) {
    response.set_action(HeartbeatResponse::FINISHED);
    response.set_reason("the job has finished");
    return response;
  }
  auto found = members_.find(request.member_id());
  if (found == members_.end() || request.generation() != generation_) {
    response.set_action(HeartbeatResponse::ABORT);
    response.set_reason(absl::StrCat("member ", request.member_id(), " of generation ", request.generation(),
                                     " is not in generation ", generation_,
                                     last_failure_.empty() ? "" : absl::StrCat(": ", last_failure_)));
    return response;
  }
  Member& member = found->second;
  member.last_seen = absl::Now();
  member.step = request.step();
  member.loss = request.loss();
  member.tokens_per_second = request.tokens_per_second();
  member.metrics_address = request.metrics_address();
  response.set_action(HeartbeatResponse::CONTINUE);
  return response;
}

void JobCoordinator::EndGenerationLocked(const std::string& reason) {
  last_failure_ = absl::StrCat("generation ", generation_, " ended: ", reason);
  LogLocked(last_failure_);
  generation_ += 1;
  state_ = FORMING;
  restarts_ += 1;
  members_.clear();
  pending_parts_.clear();
  rendezvous_.clear();
  PersistLocked();
  changed_.SignalAll();
}

bool JobCoordinator::RecoverFromPauseLocked(absl::Time now) {
  const absl::Duration since_last_check = now - last_check_;
  // The watchdog calls every heartbeat_interval / 4 at most (server/coordinator_server.cc).
  const absl::Duration threshold = std::max(failure_timeout_ / 2, heartbeat_interval_ * 2);
  const bool paused = last_check_ != absl::InfinitePast() && since_last_check > threshold;
  last_check_ = now;
  if (!paused) return false;
  // Heartbeats that arrived meanwhile were not handled either: silence is not the members'.
  for (auto& [id, member] : members_) member.last_seen = std::max(member.last_seen, now);
  LogLocked(absl::StrCat("this coordinator did not run for ",
                         absl::FormatDuration(absl::Trunc(since_last_check, absl::Milliseconds(1))),
                         " (stopped or starved): every member gets a fresh failure timeout"));
  return true;
}

void JobCoordinator::CheckFailures() {
  absl::MutexLock lock(&mu_);
  const absl::Time now = absl::Now();
  if (RecoverFromPauseLocked(now)) return;
  if (state_ == FORMING) {
    const size_t before = members_.size();
    DropSilentFormingMembersLocked(now);
    if (members_.size() != before) PersistLocked();
    return;
  }
  if (state_ != RUNNING) return;
  std::string reason;
  for (const auto& [id, member] : members_) {
    if (member.finished || now - member.last_seen <= failure_timeout_) continue;
    RecordFailedMemberLocked(member);  // every silent one: they may hang together
    if (reason.empty()) {
      reason = absl::StrFormat("%s rank %d (%s) silent for %s (failure timeout %s)", RoleName(member.role),
                               member.rank, id,
                               absl::FormatDuration(absl::Trunc(now - member.last_seen, absl::Milliseconds(1))),
                               absl::FormatDuration(failure_timeout_));
    }
  }
  if (!reason.empty()) EndGenerationLocked(reason);
}

JobStatus JobCoordinator::GetJobStatus() const {
  absl::MutexLock lock(&mu_);
  JobStatus status;
  status.set_generation(generation_);
  status.set_state(state_);
  std::vector<const Member*> ordered;
  for (const auto& [id, member] : members_) ordered.push_back(&member);
  std::sort(ordered.begin(), ordered.end(), [](const Member* a, const Member* b) {
    return std::make_pair(a->role, a->rank) < std::make_pair(b->role, b->rank);
  });
  const absl::Time now = absl::Now();
  for (const Member* member : ordered) {
    MemberStatus* out = status.add_members();
    out->set_member_id(member->id);
    out->set_role(member->role);
    out->set_rank(member->rank);
    out->set_alive(now - member->last_seen <= failure_timeout_);
    out->set_step(member->step);
    out->set_loss(member->loss);
    out->set_tokens_per_second(member->tokens_per_second);
    out->set_seconds_since_heartbeat(absl::ToDoubleSeconds(now - member->last_seen));
    out->set_address(member->address);
    out->set_finished(member->finished);
    out->set_pid(member->pid);
    out->set_metrics_address(member->metrics_address);
  }
  for (const MemberStatus& failed : failed_members_) *status.add_failed_members() = failed;
  status.set_last_committed_step(last_committed_step_);
  status.set_last_committed_path(last_committed_path_);
  status.set_last_committed_unix_seconds(last_committed_unix_seconds_);
  status.set_restarts(restarts_);
  status.set_world_size(world_size_);
  status.set_num_servers(num_servers_);
  status.set_last_failure(last_failure_);
  return status;
}

void JobCoordinator::Stop() {
  absl::MutexLock lock(&mu_);
  stopped_ = true;
  changed_.SignalAll();
}

bool JobCoordinator::WaitUntilFinished() {
  absl::MutexLock lock(&mu_);
  while (state_ != FINISHED && !stopped_) changed_.Wait(&mu_);
  return state_ == FINISHED;
}

absl::Status JobCoordinator::WaitLocked(const std::function<bool()>& done, absl::Time deadline,
                                     const CancelledFn& cancelled, const std::function<void()>& touch) {
  deadline = std::min(deadline, absl::Now() + options_.max_long_poll);
  while (!done()) {
    if (stopped_) return absl::UnavailableError("the coordinator is stopping");
    if (cancelled && cancelled()) return absl::CancelledError("the caller went away");
    const absl::Time now = absl::Now();
    if (now >= deadline) return absl::DeadlineExceededError("not yet: call again");
    // Short waits: cancellation is polled, and a waiting caller counts as alive.
    changed_.WaitWithDeadline(&mu_, std::min(deadline, now + absl::Milliseconds(200)));
    if (touch) touch();
  }
  return absl::OkStatus();
}

}  // namespace cloze
