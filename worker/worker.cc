#include "worker/worker.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "rpc/host_port.h"
#include "model/parameter_layout.h"
#include "trainer/train_config.h"
#include "trainer/training_backend.h"
#include "util/exit_status.h"
#include "worker/all_reduce_exchange.h"
#include "worker/device_all_reduce_exchange.h"
#include "worker/coordinated_checkpoint.h"
#include "rpc/coordinator_client.h"
#include "worker/gradient_sync.h"
#include "worker/mpi_gradient_sync.h"
#include "worker/nccl_gradient_sync.h"
#include "worker/ps_exchange.h"

namespace cloze {
namespace {

// NCCL among the job's GPUs, bootstrapped through the coordinator: rank 0 makes the unique
// id (and hosts NCCL's bootstrap) and publishes it for this generation; the others fetch it.
absl::StatusOr<std::unique_ptr<GradientSync>> JoinNccl(CoordinatorClient& coordinator, const RegisterResponse& job,
                                                       absl::Duration timeout) {
  std::string id;
  if (job.rank() == 0) {
    id = NewNcclUniqueId();
    if (id.empty()) {
      return absl::FailedPreconditionError(
          "--device=cuda: NCCL could not make a unique id (built without CUDA, or no network interface "
          "for its bootstrap)");
    }
  }
  absl::StatusOr<std::string> published = coordinator.Rendezvous("nccl-id", id, /*publish=*/job.rank() == 0, timeout);
  if (!published.ok()) {
    return absl::Status(published.status().code(),
                        absl::StrCat("rank ", job.rank(), ": the NCCL id rendezvous: ", published.status().message()));
  }
  return MakeNcclSync(job.rank(), job.world_size(), *published, job.config().distributed().bucket_bytes());
}

}  // namespace

absl::StatusOr<WorkerResult> RunWorker(const WorkerOptions& options) {
  const auto event = [&](const std::string& message) {
    if (options.on_event) options.on_event(message);
  };
  const bool on_gpu = options.device.kind == TrainingDevice::Kind::kCuda;
  // Before registering: a worker without its GPU must not hold up the job's generation.
  if (absl::Status s = SelectTrainingDevice(options.device); !s.ok()) return s;
  // Under mpirun the MPI rank is the worker's rank, so that the coordinator's ranks and
  // MPI's agree; an explicit rank (--rank, e.g. a Kubernetes completion index) comes first.
  const std::optional<std::pair<int, int>> mpi = MpiRankFromEnvironment();
  const int requested_rank = options.requested_rank >= 0 ? options.requested_rank : mpi ? mpi->first : -1;
  CoordinatorClientOptions client_options{.address = options.coordinator,
                                          .security = options.security,
                                          .role = WORKER,
                                          .requested_rank = requested_rank,
                                          .stop_requested = options.stop_requested};
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> client = CoordinatorClient::Connect(client_options);
  if (!client.ok()) return client.status();
  CoordinatorClient& coordinator = **client;
  absl::StatusOr<RegisterResponse> job = coordinator.Register(options.register_timeout);
  if (!job.ok()) {
    if (options.requested_rank < 0 || !absl::IsInvalidArgument(job.status())) return job.status();
    return WithExitStatus(absl::InvalidArgumentError(absl::StrCat("--rank=", options.requested_rank,
                                                                  ": the coordinator refused it: ", job.status().message())),
                          kExitUsage);
  }
  if (absl::Status s = ValidateTrainConfig(job->config()); !s.ok()) {
    return WithExitStatus(absl::InvalidArgumentError(absl::StrCat("the coordinator's train config: ", s.message())),
                          kExitUsage);
  }
  WorkerResult result{.rank = job->rank(), .world_size = job->world_size()};
  event(absl::StrCat("worker ", job->rank(), " of ", job->world_size(), ", generation ", job->generation(),
                     job->resume_checkpoint().empty() ? ", starting fresh" : ", resuming from " + job->resume_checkpoint()));
  if (mpi && (mpi->first != job->rank() || mpi->second != job->world_size())) {
    return absl::FailedPreconditionError(absl::StrCat("mpirun made this rank ", mpi->first, " of ", mpi->second,
                                                      ", the coordinator's job has ", job->world_size(), " workers"));
  }

  // A member's failure ends the generation; this process cannot recover in place (its MPI
  // peers may be gone mid-collective), so it leaves at once and is started again.
  coordinator.StartHeartbeats([](const std::string& reason) {
    std::fprintf(stderr, "cloze worker: the job's generation ended (%s); exiting to be restarted\n", reason.c_str());
    std::fflush(stderr);
    std::_Exit(kExitRestart);
  });

  const bool parameter_servers = job->config().distributed().parameter_servers() > 0;
  std::unique_ptr<GradientSync> sync;
  if (job->world_size() == 1) {
    sync = MakeSingleProcessSync();
  } else if (on_gpu && parameter_servers) {
    // The parameter-server exchange sums its statistics through the sync in host memory,
    // which NCCL cannot reduce.
    return absl::UnimplementedError(absl::StrCat("--device=cuda with ", job->world_size(),
                                                 " workers and parameter servers: not supported; use all-reduce "
                                                 "(distributed.parameter_servers: 0) or --device=cpu"));
  } else if (on_gpu) {
    absl::StatusOr<std::unique_ptr<GradientSync>> made = JoinNccl(coordinator, *job, options.register_timeout);
    if (!made.ok()) return made.status();
    sync = *std::move(made);
    event(absl::StrCat("worker ", job->rank(), ": NCCL among ", job->world_size(), " GPUs (this one: GPU ",
                       options.device.gpu, ")"));
  } else if (mpi) {
    absl::StatusOr<std::unique_ptr<GradientSync>> made = MakeMpiSync(job->config().distributed().bucket_bytes());
    if (!made.ok()) return made.status();
    sync = *std::move(made);
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        "the job has ", job->world_size(), " workers: start them with mpirun -np ", job->world_size(),
        " (or cloze launch) so that they can all-reduce gradients"));
  }

  const TrainConfig& config = job->config();
  // The model Train builds: the encoder and the run's head (a fine-tuning task's, or pretraining's).
  const ParameterLayout layout = BuildParameterLayout(config.model(), HeadSpecOf(config));
  std::unique_ptr<StepExchange> exchange;
  if (parameter_servers) {
    absl::StatusOr<std::unique_ptr<StepExchange>> made = MakeParameterServerExchange(
        {job->server_addresses().begin(), job->server_addresses().end()}, options.security, layout, *sync,
        config.distributed());
    if (!made.ok()) return made.status();
    exchange = *std::move(made);
  } else if (on_gpu) {  // also for one worker: its gradients then stay on the device
    exchange = std::make_unique<DeviceAllReduceExchange>(*sync);
  } else {
    exchange = std::make_unique<AllReduceExchange>(*sync);
  }
  CoordinatedCheckpointSink checkpoints(coordinator, job->run_dir(), layout, job->rank());

  TrainOptions train;
  train.config = config;
  train.run_dir = job->run_dir();
  train.device = options.device;
  train.metrics_address = AddressWithPortOffset(options.metrics_address, job->rank());
  train.run_name = std::filesystem::path(job->run_dir()).filename().string();
  train.stop_requested = options.stop_requested;
  train.on_metrics_serving = [&](int port) {  // for the run's Prometheus targets file
    coordinator.SetMetricsAddress(ReachableAddress(train.metrics_address, port));
  };
  train.nonfinite_loss_steps = options.nonfinite_loss_steps;
  train.on_event = options.on_event;
  train.on_step = [&](const StepRecord& record, int64_t total, double elapsed) {
    coordinator.SetProgress(record.step, record.loss, record.tokens_per_second);
    if (options.on_step) options.on_step(record, total, elapsed);
  };
  train.exchange = exchange.get();
  train.checkpoint_sink = &checkpoints;
  train.resume_from = job->resume_checkpoint();
  absl::StatusOr<TrainSummary> summary = Train(train);
  if (!summary.ok()) return summary.status();
  result.summary = *summary;
  if (!summary->interrupted) {
    if (absl::Status s = coordinator.Finish(summary->end_step); !s.ok()) return s;
  }
  return result;
}

}  // namespace cloze
