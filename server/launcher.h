// `cloze launch`: a whole job on this machine. Starts a coordinator, M parameter servers and
// N workers (under mpirun when N > 1 on CPUs; on GPUs N plain processes, the i-th on GPU i,
// which all-reduce with NCCL bootstrapped through the coordinator), supervises them, restarts what fails, and reports
// one combined progress view from the coordinator's job status.
//
// Restarts: a worker group that exits non-zero (on GPUs: any of its processes, and the
// others are then stopped) (a worker killed, or told by the coordinator
// that its generation ended) is started again, and resumes from the last committed
// checkpoint; so is a parameter server. A coordinator that dies is started again on the
// same port with the same run directory and carries on from its saved state, while the
// workers keep training. A member the coordinator declares failed for missing its
// heartbeats (JobStatus.failed_members) may hang rather than exit: the launcher SIGKILLs
// it (a rank under mpirun too), reaps it and starts it again. Restarts count failures:
// a process that exits with kExitRestart (its generation ended because of another member)
// or a worker group ending because the launcher killed one of its ranks is restarted
// without counting. After max_restarts counted restarts (or as many generation ends) the
// launch gives up.
//
// Permanent failures (util/exit_status.h: a configuration error, bad data, a checkpoint
// that cannot be loaded) are never restarted: a process that exits with such a status ends
// the job at once; the rest is stopped as on SIGTERM, and Launch's error carries that exit
// status (WithExitStatus) and the failing process's own error lines from its log.
//
// Files in the run directory: run.lock (util/run_dir_lock.h: cloze launch locks the folder
// before calling Launch, and every process started here inherits the lock), job_token (created 0600 when missing), job_config.pb.txt (the
// config with --workers/--ps applied: what the coordinator serves), logs/coordinator.log,
// logs/ps-<s>.log, logs/workers.log (every process's output, appended across restarts).
#ifndef CLOZE_SERVER_LAUNCHER_H_
#define CLOZE_SERVER_LAUNCHER_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/coordinator.pb.h"
#include "proto/train_config.pb.h"

namespace cloze {

struct LaunchOptions {
  std::string cloze_binary;  // the program to start for every process (this one)
  TrainConfig config;        // validated; distributed.workers/parameter_servers say how many
  std::string run_dir;
  int max_restarts = 20;
  // Prometheus endpoints: the coordinator on HOST:PORT, worker r on PORT + 1 + r, parameter
  // server s on PORT + 1 + workers + s (deploy/prometheus/prometheus.yml lists them for the
  // default 9400 and 2 workers). Port 0: any free ports. Empty: none.
  std::string metrics_address = "127.0.0.1:9400";
  // OpenMP threads of each worker (0: cores / workers, at least 1).
  int threads_per_worker = 0;
  // Workers on GPUs: N processes without mpirun, the i-th with --device=cuda --gpu=i.
  bool gpu_workers = false;
  // Passed to every worker (e.g. --gpu_precision=fp32).
  std::vector<std::string> worker_flags;
  const std::atomic<bool>* stop_requested = nullptr;  // SIGTERM/SIGINT: stop the job cleanly
  std::function<void(const std::string&)> on_event;
  std::function<void(const JobStatus&)> on_status;  // about once a second
};

struct LaunchSummary {
  bool finished = false;  // the job ran to total_steps (else it was stopped)
  int restarts = 0;       // failures counted against max_restarts
  JobStatus last_status;  // the last polled; its last commit from the saved state at the end
};

// Errors: the permanent failure of a member (its exit status attached), the job failing
// more than max_restarts times, or a process that cannot be started. No process started
// here outlives the call.
absl::StatusOr<LaunchSummary> Launch(const LaunchOptions& options);

}  // namespace cloze

#endif  // CLOZE_SERVER_LAUNCHER_H_
