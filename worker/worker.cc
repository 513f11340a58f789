#include "worker/worker.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "trainer/parameter_layout.h"
#include "trainer/train_config.h"
#include "worker/all_reduce_exchange.h"
#include "worker/coordinated_checkpoint.h"
#include "worker/coordinator_client.h"
#include "worker/gradient_sync.h"
#include "worker/mpi_gradient_sync.h"
#include "worker/ps_exchange.h"

namespace cloze {
namespace {

int64_t BucketBytes(const TrainConfig& config) {
  const int64_t configured = config.distributed().bucket_bytes();
  return configured > 0 ? configured : kDefaultBucketBytes;
}

}  // namespace

absl::StatusOr<WorkerResult> RunWorker(const WorkerOptions& options) {
  const auto event = [&](const std::string& message) {
    if (options.on_event) options.on_event(message);
  };
  // Under mpirun the MPI rank is the worker's rank, so that the coordinator's ranks and
  // MPI's agree.
  const std::optional<std::pair<int, int>> mpi = MpiRankFromEnvironment();
  CoordinatorClientOptions client_options{.address = options.coordinator,
                                          .security = options.security,
                                          .role = WORKER,
                                          .requested_rank = mpi ? mpi->first : -1};
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> client = CoordinatorClient::Connect(client_options);
  if (!client.ok()) return client.status();
  CoordinatorClient& coordinator = **client;
  absl::StatusOr<RegisterResponse> job = coordinator.Register(options.register_timeout);
  if (!job.ok()) return job.status();
  if (absl::Status s = ValidateTrainConfig(job->config()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("the coordinator's train config: ", s.message()));
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

  std::unique_ptr<GradientSync> sync;
  if (job->world_size() == 1) {
    sync = MakeSingleProcessSync();
  } else if (mpi) {
    absl::StatusOr<std::unique_ptr<GradientSync>> made = MakeMpiSync(BucketBytes(job->config()));
    if (!made.ok()) return made.status();
    sync = *std::move(made);
  } else {
    return absl::FailedPreconditionError(absl::StrCat(
        "the job has ", job->world_size(), " workers: start them with mpirun -np ", job->world_size(),
        " (or cloze launch) so that they can all-reduce gradients"));
  }

  const TrainConfig& config = job->config();
  const ParameterLayout layout = BuildParameterLayout(config.model());
  std::unique_ptr<StepExchange> exchange;
  if (config.distributed().parameter_servers() > 0) {
    absl::StatusOr<std::unique_ptr<StepExchange>> made = MakeParameterServerExchange(
        {job->server_addresses().begin(), job->server_addresses().end()}, options.security, layout, *sync,
        config.distributed());
    if (!made.ok()) return made.status();
    exchange = *std::move(made);
  } else {
    exchange = std::make_unique<AllReduceExchange>(*sync);
  }
  CoordinatedCheckpointSink checkpoints(coordinator, job->run_dir(), layout, job->rank());

  TrainOptions train;
  train.config = config;
  train.run_dir = job->run_dir();
  train.metrics_address = options.metrics_address;
  train.run_name = std::filesystem::path(job->run_dir()).filename().string();
  train.stop_requested = options.stop_requested;
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
