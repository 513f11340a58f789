#include "server/launcher.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "server/child_process.h"
#include "server/coordinator_state_file.h"
#include "rpc/host_port.h"
#include "rpc/job_auth.h"
#include "rpc/coordinator_client.h"
#include "trainer/train_config.h"
#include "util/atomic_file.h"
#include "util/exit_status.h"
#include "util/file_error.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;

// The job's token: kept across launches of the same run, so that processes of an earlier
// launch still running (they should not be) cannot join by accident with another.
absl::StatusOr<std::string> EnsureJobToken(const std::string& path) {
  if (!fs::exists(path)) {
    absl::StatusOr<std::string> token = NewJobToken();
    if (!token.ok()) return token.status();
    if (absl::Status s = util::WriteTextFileAtomically(path, *token + "\n", 0600); !s.ok()) {
      return s;
    }
  }
  return path;
}

// Waits for a port file written by a child, while watching that the child is alive.
absl::StatusOr<int> WaitForPortFile(const std::string& path, ChildProcess& child, const std::string& log,
                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream in(path);
    std::string text;
    int port = 0;
    if (in && std::getline(in, text) && absl::SimpleAtoi(text, &port) && port > 0) return port;
    if (std::optional<int> status = child.Poll()) {
      const absl::Status failed = absl::UnavailableError(
          absl::StrCat(child.name(), " exited with status ", *status, " before serving (", log, "):\n",
                       child.OwnErrorLines()));
      return IsPermanentExit(*status) ? WithExitStatus(failed, *status) : failed;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  return absl::DeadlineExceededError(absl::StrCat(child.name(), " did not write ", path, " within ",
                                                  absl::FormatDuration(timeout), "; see ", log));
}

class Supervisor {
 public:
  explicit Supervisor(const LaunchOptions& options) : options_(options) {}

  // Supervises the job to its end; whatever ends it, no process of it is left running.
  absl::StatusOr<LaunchSummary> Run();

 private:
  absl::StatusOr<LaunchSummary> Supervise();
  void Event(const std::string& message) {
    if (options_.on_event) options_.on_event(message);
  }
  std::string Log(const std::string& name) const { return absl::StrCat(options_.run_dir, "/logs/", name, ".log"); }
  int Workers() const { return std::max(1, options_.config.distributed().workers()); }
  // The workers add their rank to theirs themselves.
  std::string MetricsAddress(int offset) const { return AddressWithPortOffset(options_.metrics_address, offset); }
  std::vector<std::string> Security() const { return {absl::StrCat("--job_token_file=", token_file_)}; }
  absl::Status StartCoordinator();
  absl::Status StartServer(int s);
  absl::Status StartWorkers();
  // The worker group's exit status once it has ended: 0 when every process exited 0, else
  // the first failure's status, after stopping the rest (one failed rank fails the group,
  // as under mpirun). nullopt while it runs.
  std::optional<int> PollWorkers();
  bool WorkersRunning();
  // Whether the coordinator says the job is finished (a server then exits 0 by itself,
  // possibly before the workers do).
  bool JobFinished() {
    absl::StatusOr<JobStatus> status = status_client_->GetJobStatus();
    return !status.ok() || status->state() == FINISHED;
  }
  // Counts a restart (unless the process exited with kExitRestart: its generation ended
  // because of a failure counted where it happened); an error once there were too many.
  // A permanent exit status (util/exit_status.h) is never restarted: the error carries it,
  // with the cause in `child`'s own words.
  absl::Status Restart(const std::string& what, int status, const ChildProcess& child, const std::string& log);
  // Counts one failure that the launcher itself noticed; an error once there were too many,
  // giving `cause` (the failing process's own error lines, "" when it has none: a hung
  // member killed) rather than a log's tail, which may be another process's or cut off.
  absl::Status CountFailure(const std::string& what, const std::string& log, const std::string& cause = "");
  // Members the coordinator declared failed for missing their heartbeats never exit if they
  // hang (SIGSTOP, a deadlock): SIGKILLs those this launcher started, reaps them, and
  // starts them again. One failure each; what exits because of it is not counted again.
  absl::Status KillHungMembers(const JobStatus& status);
  // The checkpoint committed last, from the coordinator's saved state (the job status
  // polled before the final commits is stale).
  void RecordLastCommit();
  void Shutdown();

  const LaunchOptions& options_;
  std::string token_file_, config_file_;
  int coordinator_port_ = 0;
  std::optional<ChildProcess> coordinator_;
  std::vector<ChildProcess> workers_;  // one mpirun (CPU), or one process per GPU
  std::vector<std::optional<ChildProcess>> servers_;
  std::unique_ptr<CoordinatorClient> status_client_;
  std::set<std::string> handled_failures_;  // member ids of failed members already killed
  bool workers_killed_ = false;             // the worker group's next exit is the launcher's doing
  int64_t first_generation_restarts_ = -1;  // JobStatus.restarts at the first status
  LaunchSummary summary_;
};

absl::Status Supervisor::StartCoordinator() {
  const std::string port_file = absl::StrCat(options_.run_dir, "/coordinator.port");
  fs::remove(port_file);
  std::vector<std::string> argv = {options_.cloze_binary, "coordinator",
                                   absl::StrCat("--config=", config_file_),
                                   absl::StrCat("--run_dir=", options_.run_dir),
                                   absl::StrCat("--listen=127.0.0.1:", coordinator_port_),
                                   absl::StrCat("--port_file=", port_file),
                                   absl::StrCat("--metrics_address=", MetricsAddress(0)),
                                   absl::StrCat("--metrics_port_file=", options_.run_dir, "/coordinator.metrics_port")};
  for (const std::string& flag : Security()) argv.push_back(flag);
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(argv, Log("coordinator"));
  if (!child.ok()) return child.status();
  coordinator_ = *std::move(child);
  absl::StatusOr<int> port = WaitForPortFile(port_file, *coordinator_, Log("coordinator"), absl::Seconds(60));
  if (!port.ok()) return port.status();
  coordinator_port_ = *port;
  return absl::OkStatus();
}

absl::Status Supervisor::StartServer(int s) {
  std::vector<std::string> argv = {options_.cloze_binary, "ps", absl::StrCat("--coordinator=127.0.0.1:", coordinator_port_),
                                   "--listen=127.0.0.1:0",
                                   absl::StrCat("--metrics_address=", MetricsAddress(1 + Workers() + s))};
  for (const std::string& flag : Security()) argv.push_back(flag);
  // Passive OpenMP waits: a server's gRPC threads need the cores between optimizer steps,
  // and spinning idle OpenMP threads take them (bench/RESULTS.md, parameter servers).
  absl::StatusOr<ChildProcess> child =
      ChildProcess::Start(argv, Log(absl::StrCat("ps-", s)), {"OMP_WAIT_POLICY=passive"});
  if (!child.ok()) return child.status();
  servers_[s] = *std::move(child);
  return absl::OkStatus();
}

absl::Status Supervisor::StartWorkers() {
  const int n = std::max(1, options_.config.distributed().workers());
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int threads = options_.threads_per_worker > 0 ? options_.threads_per_worker : std::max(1, cores / n);
  const std::vector<std::string> env = {absl::StrCat("OMP_NUM_THREADS=", threads)};
  std::vector<std::string> worker = {options_.cloze_binary, std::string("worker"),
                                     absl::StrCat("--coordinator=127.0.0.1:", coordinator_port_),
                                     absl::StrCat("--metrics_address=", MetricsAddress(1))};
  for (const std::string& flag : Security()) worker.push_back(flag);
  for (const std::string& flag : options_.worker_flags) worker.push_back(flag);
  workers_.clear();
  if (options_.gpu_workers) {
    // One process per GPU, every GPU visible to each (so NCCL can use P2P/NVLink between
    // them); --gpu picks its own. NCCL needs no mpirun.
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> argv = worker;
      argv.push_back("--device=cuda");
      argv.push_back(absl::StrCat("--gpu=", i));
      absl::StatusOr<ChildProcess> child = ChildProcess::Start(argv, Log("workers"), env);
      if (!child.ok()) return child.status();
      workers_.push_back(*std::move(child));
    }
    return absl::OkStatus();
  }
  std::vector<std::string> argv;
  if (n > 1) {
    // --bind-to none: OpenMPI would pin each rank to one core, starving its OpenMP threads.
    // -x CLOZE_DIE_WITH_PARENT: the ranks die with mpirun, which dies with the launcher.
    argv = {"mpirun", "--oversubscribe", "--bind-to", "none", "-np", absl::StrCat(n),
            "-x", env[0], "-x", kDieWithParentVariable};
    if (geteuid() == 0) argv.push_back("--allow-run-as-root");
  }
  for (const std::string& a : worker) argv.push_back(a);
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(argv, Log("workers"), env);
  if (!child.ok()) return child.status();
  workers_.push_back(*std::move(child));
  return absl::OkStatus();
}

std::optional<int> Supervisor::PollWorkers() {
  bool all_exited = true;
  for (ChildProcess& worker : workers_) {
    std::optional<int> status = worker.Poll();
    if (status.has_value() && *status != 0) {
      for (ChildProcess& other : workers_) {
        if (other.running()) other.Stop(SIGTERM, absl::Seconds(30));
      }
      return status;
    }
    all_exited = all_exited && status.has_value();
  }
  return all_exited ? std::optional<int>(0) : std::nullopt;
}

bool Supervisor::WorkersRunning() {
  for (ChildProcess& worker : workers_) {
    if (worker.running() && !worker.Poll().has_value()) return true;
  }
  return false;
}

absl::Status Supervisor::Restart(const std::string& what, int status, const ChildProcess& child,
                                 const std::string& log) {
  if (IsPermanentExit(status)) {
    Event(absl::StrCat(what, " exited with status ", status, " (", ExitStatusMeaning(status),
                       "): a restart would fail the same way; stopping the job"));
    return WithExitStatus(absl::FailedPreconditionError(absl::StrCat(
                              what, " failed: ", ExitStatusMeaning(status), " (exit status ", status, "; ", log,
                              "):\n", child.OwnErrorLines())),
                          status);
  }
  if (status == kExitRestart) {
    Event(absl::StrCat(what, " exited with status ", status, " (its generation ended); restarting"));
    return absl::OkStatus();
  }
  return CountFailure(absl::StrCat(what, " exited with status ", status), log, child.OwnErrorLines());
}

absl::Status Supervisor::CountFailure(const std::string& what, const std::string& log, const std::string& cause) {
  ++summary_.restarts;
  Event(absl::StrCat(what, "; restarting (", summary_.restarts, " of at most ", options_.max_restarts, ")"));
  if (summary_.restarts > options_.max_restarts) {
    return absl::AbortedError(absl::StrCat(what, ": the job keeps failing: ", summary_.restarts - 1, " restarts; ",
                                           cause.empty() ? absl::StrCat("see ", log)
                                                         : absl::StrCat("its own last lines (", log, "):\n", cause)));
  }
  return absl::OkStatus();
}

absl::Status Supervisor::KillHungMembers(const JobStatus& status) {
  for (const MemberStatus& failed : status.failed_members()) {
    if (failed.pid() <= 0 || !handled_failures_.insert(failed.member_id()).second) continue;
    const pid_t pid = static_cast<pid_t>(failed.pid());
    const std::string hung = absl::StrCat(" (pid ", pid, ", ", failed.role() == PARAMETER_SERVER ? "server" : "worker",
                                          " rank ", failed.rank(), ") missed its heartbeats: killed");
    for (int s = 0; s < static_cast<int>(servers_.size()); ++s) {
      if (!servers_[s] || !servers_[s]->running() || servers_[s]->Poll().has_value() || servers_[s]->pid() != pid) {
        continue;
      }
      servers_[s]->Stop(SIGKILL, absl::ZeroDuration());  // reaped
      if (absl::Status r = CountFailure(absl::StrCat("parameter server ", s, hung), Log(absl::StrCat("ps-", s)));
          !r.ok()) {
        return r;
      }
      if (absl::Status r = StartServer(s); !r.ok()) return r;
    }
    for (ChildProcess& worker : workers_) {
      if (!worker.running() || worker.Poll().has_value() || !IsSameOrDescendantOf(pid, worker.pid())) continue;
      // A rank under mpirun: mpirun reaps it and then ends the group, which PollWorkers
      // restarts (uncounted: this is the failure).
      if (worker.pid() == pid) {
        worker.Stop(SIGKILL, absl::ZeroDuration());
      } else {
        kill(pid, SIGKILL);
      }
      workers_killed_ = true;
      if (absl::Status r = CountFailure(absl::StrCat("a worker", hung), Log("workers")); !r.ok()) return r;
      break;
    }
  }
  // Every generation ended by a failure has a counted cause; this bounds the rest too.
  if (first_generation_restarts_ < 0) first_generation_restarts_ = status.restarts();
  if (status.restarts() - first_generation_restarts_ > options_.max_restarts) {
    return absl::AbortedError(absl::StrCat("the job's generation ended ", status.restarts() - first_generation_restarts_,
                                           " times in this launch (more than --max_restarts=", options_.max_restarts,
                                           "); the last time: ", status.last_failure()));
  }
  return absl::OkStatus();
}

void Supervisor::RecordLastCommit() {
  absl::StatusOr<std::optional<CoordinatorState>> saved = LoadCoordinatorState(options_.run_dir);
  if (!saved.ok() || !saved->has_value()) return;
  summary_.last_status.set_last_committed_step((*saved)->last_committed_step());
  summary_.last_status.set_last_committed_path((*saved)->last_committed_path());
  summary_.last_status.set_last_committed_unix_seconds((*saved)->last_committed_unix_seconds());
}

void Supervisor::Shutdown() {
  // Workers first, so that they commit a checkpoint while the coordinator still listens.
  for (ChildProcess& worker : workers_) {  // signal all first: they stop at the same step
    if (worker.running()) worker.Signal(SIGTERM);
  }
  for (ChildProcess& worker : workers_) {  // signal 0: wait, not a second SIGTERM (exit at once)
    if (worker.running()) worker.Stop(0, absl::Seconds(120));
  }
  for (auto& server : servers_) {
    if (server && server->running()) server->Stop(SIGTERM, absl::Seconds(10));
  }
  if (coordinator_ && coordinator_->running()) coordinator_->Stop(SIGTERM, absl::Seconds(10));
}

absl::StatusOr<LaunchSummary> Supervisor::Run() {
  absl::StatusOr<LaunchSummary> summary = Supervise();
  if (!summary.ok()) Shutdown();  // what is still running stops cleanly, not by SIGKILL
  return summary;
}

absl::StatusOr<LaunchSummary> Supervisor::Supervise() {
  std::error_code error;
  fs::create_directories(options_.run_dir + "/logs", error);
  if (error) return util::FileError(options_.run_dir + "/logs", "cannot create", error.value());
  absl::StatusOr<std::string> token = EnsureJobToken(options_.run_dir + "/job_token");
  if (!token.ok()) return token.status();
  token_file_ = *token;
  config_file_ = options_.run_dir + "/job_config.pb.txt";
  // The coordinator reads it with LoadTrainConfig, which fills what a file leaves out with
  // the defaults: TrainConfigText writes the zeros plain text format would drop.
  if (absl::Status s = util::WriteTextFileAtomically(config_file_, TrainConfigText(options_.config)); !s.ok()) {
    return s;
  }
  absl::StatusOr<GrpcSecurity> security = LoadGrpcSecurity(token_file_);
  if (!security.ok()) return security.status();

  if (absl::Status s = StartCoordinator(); !s.ok()) return s;
  Event(absl::StrCat("coordinator on 127.0.0.1:", coordinator_port_, " (log ", Log("coordinator"), ")"));
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> client = CoordinatorClient::Connect(
      {.address = absl::StrCat("127.0.0.1:", coordinator_port_),
       .security = *security,
       .reconnect_window = absl::Seconds(1)});  // a status view, not a member: never wait long
  if (!client.ok()) return client.status();
  status_client_ = *std::move(client);
  servers_.resize(options_.config.distributed().parameter_servers());
  for (int s = 0; s < static_cast<int>(servers_.size()); ++s) {
    if (absl::Status status = StartServer(s); !status.ok()) return status;
  }
  if (!servers_.empty()) Event(absl::StrCat(servers_.size(), " parameter servers (logs ", Log("ps-*"), ")"));
  if (absl::Status s = StartWorkers(); !s.ok()) return s;
  Event(absl::StrCat(std::max(1, options_.config.distributed().workers()), " workers (log ", Log("workers"), ")"));

  bool workers_done = false, stopping = false;
  absl::Time next_status = absl::Now();
  while (true) {
    if (options_.stop_requested != nullptr && options_.stop_requested->load() && !stopping) {
      stopping = true;
      Event("stopping: the workers commit a checkpoint, then everything exits");
      Shutdown();
      break;
    }
    if (std::optional<int> status = coordinator_->Poll()) {
      if (*status == 0) {  // the job finished
        summary_.finished = true;
        break;
      }
      if (absl::Status s = Restart("the coordinator", *status, *coordinator_, Log("coordinator")); !s.ok()) return s;
      if (absl::Status s = StartCoordinator(); !s.ok()) return s;
    }
    for (int s = 0; s < static_cast<int>(servers_.size()); ++s) {
      std::optional<int> status = servers_[s]->Poll();
      if (!status.has_value() || (*status == 0 && (workers_done || JobFinished()))) continue;
      if (absl::Status r = Restart(absl::StrCat("parameter server ", s), *status, *servers_[s],
                                   Log(absl::StrCat("ps-", s)));
          !r.ok()) {
        return r;
      }
      if (absl::Status r = StartServer(s); !r.ok()) return r;
    }
    if (!workers_done) {
      if (std::optional<int> status = PollWorkers()) {
        if (*status == 0) {
          workers_done = true;  // the coordinator exits once it has committed the last step
        } else {
          if (workers_killed_ && !IsPermanentExit(*status)) {
            Event(absl::StrCat("the worker group exited with status ", *status, "; restarting"));
          } else if (absl::Status s = Restart("the worker group", *status, workers_.front(), Log("workers")); !s.ok()) {
            return s;
          }
          workers_killed_ = false;
          if (absl::Status s = StartWorkers(); !s.ok()) return s;
        }
      }
    }
    if (absl::Now() >= next_status) {
      next_status = absl::Now() + absl::Seconds(1);
      absl::StatusOr<JobStatus> status = status_client_->GetJobStatus();
      if (status.ok()) {
        summary_.last_status = *status;
        if (options_.on_status) options_.on_status(*status);
        if (absl::Status s = KillHungMembers(*status); !s.ok()) return s;
      }
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  if (summary_.finished) {
    // Everything else exits by itself once the job is finished; give it a moment.
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    auto all_exited = [&] {
      bool exited = !WorkersRunning();
      for (auto& server : servers_) exited = exited && (!server->running() || server->Poll().has_value());
      return exited;
    };
    while (!all_exited() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  }
  Shutdown();
  RecordLastCommit();
  return summary_;
}

}  // namespace

absl::StatusOr<LaunchSummary> Launch(const LaunchOptions& options) {
  Supervisor supervisor(options);
  return supervisor.Run();
}

}  // namespace cloze
