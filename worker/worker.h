// The worker process of a distributed job (`cloze worker`): registers with the coordinator,
// learns its rank, the job's config and where to resume, joins its peers' gradient sync and
// runs the training loop (trainer/trainer.h) on its share of every step.
//
// Started by `mpirun -np N cloze worker ...` (the MPI rank is the worker's rank; gradients
// are all-reduced over MPI) or by `cloze launch`, which does exactly that. A job with one
// worker needs no MPI.
//
// On GPUs (WorkerOptions.device kCuda) no MPI is needed either: `cloze launch --device=cuda`
// starts N plain processes, the i-th with --gpu=i (cudaSetDevice; every process sees every
// GPU, so NCCL can use NVLink/P2P between them). Rank 0 makes NCCL's unique id and
// publishes it through the coordinator's rendezvous ("nccl-id", per generation), the
// others fetch it, and gradients and statistics are all-reduced by NCCL on the devices.
//
// Failures: when any member of the job fails, the coordinator ends the generation and this
// worker exits at once with kExitRestart; its peers do the same, and the launcher (or the
// cluster's restart policy) starts the group again, which resumes from the last committed
// checkpoint. While the coordinator itself is away (restarting), training goes on and
// heartbeats and checkpoint reports are retried.
#ifndef CLOZE_WORKER_WORKER_H_
#define CLOZE_WORKER_WORKER_H_

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "rpc/coordinator_client.h"
#include "rpc/job_auth.h"
#include "trainer/trainer.h"

namespace cloze {

// kExitRestart (util/exit_status.h): the exit status of a worker whose job
// generation ended.

struct WorkerOptions {
  std::string coordinator;  // HOST:PORT
  GrpcSecurity security;
  // The workers' Prometheus endpoints: rank r serves on PORT + r (port 0: any free port;
  // empty: none), so one scrape configuration covers a job.
  std::string metrics_address;
  // The rank to ask the coordinator for (cloze worker --rank); -1: the MPI rank under
  // mpirun, else any free rank. Out of range is refused by the coordinator.
  int requested_rank = -1;
  // CPU, or which GPU (and precision) this worker trains on.
  TrainingDevice device;
  absl::Duration register_timeout = absl::Minutes(10);
  // SIGTERM: checkpoint and exit 0; before the job's generation formed, give up joining.
  const std::atomic<bool>* stop_requested = nullptr;
  // Tests only: TrainOptions.nonfinite_loss_steps (every worker of a job must get the same).
  std::vector<int64_t> nonfinite_loss_steps;
  std::function<void(const std::string&)> on_event;
  std::function<void(const StepRecord&, int64_t total_steps, double elapsed_seconds)> on_step;
};

struct WorkerResult {
  int rank = 0, world_size = 1;
  TrainSummary summary;
};

// Runs the worker until the job's last step (or a stop request). Errors name the peer or
// the part that failed. Aborted when the coordinator ended this worker's generation
// (the caller exits with kExitRestart); OutOfRange when the job had finished already (a
// worker started again after the end: nothing to do, not a failure); Cancelled when
// stop_requested was set while it was joining the job (nothing to save). Errors no restart mends
// carry their exit status (util/exit_status.h; Train's, and kExitUsage for a config the
// worker refuses).
absl::StatusOr<WorkerResult> RunWorker(const WorkerOptions& options);

}  // namespace cloze

#endif  // CLOZE_WORKER_WORKER_H_
