// cloze worker: one worker of a distributed job (worker/worker.h).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "util/exit_status.h"
#include "worker/worker.h"

namespace cloze::cli {

int RunWorkerCommand(const std::vector<std::string>& args) {
  if (!args.empty() || absl::GetFlag(FLAGS_coordinator).empty()) {
    std::fprintf(stderr, "usage: cloze worker --coordinator=HOST:PORT --job_token_file=FILE [--tls_ca=PEM "
                         "--metrics_address=HOST:PORT --device=cpu|cuda --gpu=N --rank=R]\n"
                         "  (N workers: mpirun -np N cloze worker ...; or let cloze launch start them)\n");
    return 2;
  }
  if (SeedFromCommandLine().has_value()) {
    std::fprintf(stderr, "cloze worker: --seed: a worker takes its job's seed (the config's, or cloze launch "
                         "--seed); it cannot have its own\n");
    return 2;
  }
  if (absl::GetFlag(FLAGS_rank) < -1) {
    std::fprintf(stderr, "cloze worker: --rank=%d: want a rank (0 to workers-1), or -1 for any\n",
                 absl::GetFlag(FLAGS_rank));
    return 2;
  }
  absl::StatusOr<GrpcSecurity> security =
      LoadGrpcSecurity(absl::GetFlag(FLAGS_job_token_file), "", "", absl::GetFlag(FLAGS_tls_ca));
  if (!security.ok()) {
    std::fprintf(stderr, "cloze worker: %s\n", std::string(security.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<TrainingDevice> device = TrainingDeviceFromFlags();
  if (!device.ok()) {
    std::fprintf(stderr, "cloze worker: %s\n", std::string(device.status().message()).c_str());
    return 2;
  }
  absl::StatusOr<std::vector<int64_t>> nonfinite = NonfiniteLossStepsFromFlag();
  if (!nonfinite.ok()) {
    std::fprintf(stderr, "cloze worker: %s\n", std::string(nonfinite.status().message()).c_str());
    return 2;
  }
  const std::atomic<bool>* stop = StopOnSignals();

  // Under mpirun, every rank's lines go to one terminal: each says whose it is. GPU workers
  // (cloze launch --device=cuda: one process per GPU, one log) say which GPU.
  const char* rank = std::getenv("OMPI_COMM_WORLD_RANK");
  const bool on_gpu = device->kind == TrainingDevice::Kind::kCuda;
  const std::string prefix = rank != nullptr ? absl::StrCat("worker ", rank, ": ")
                             : on_gpu        ? absl::StrCat("gpu ", device->gpu, ": ")
                                             : "";
  const bool terminal = isatty(STDERR_FILENO) && prefix.empty();
  WorkerOptions options;
  options.coordinator = absl::GetFlag(FLAGS_coordinator);
  options.security = *security;
  options.device = *device;
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.requested_rank = absl::GetFlag(FLAGS_rank);
  options.stop_requested = stop;
  options.nonfinite_loss_steps = *std::move(nonfinite);
  options.on_event = EventPrinter(terminal, prefix);
  // Rank 0 speaks for the job; the others' steps are the same steps.
  if (rank == nullptr ? !on_gpu || device->gpu == 0 : std::string(rank) == "0") options.on_step = StepPrinter(terminal, 10, prefix);

  absl::StatusOr<WorkerResult> result = RunWorker(options);
  if (terminal) std::fprintf(stderr, "\n");
  if (absl::IsOutOfRange(result.status())) {
    std::fprintf(stderr, "%sthe job had finished already; nothing to do\n", prefix.c_str());
    return 0;
  }
  if (absl::IsCancelled(result.status())) {  // as a stop during training: exit 0
    std::fprintf(stderr, "%sstopped before joining the job: %s\n", prefix.c_str(),
                 std::string(result.status().message()).c_str());
    return 0;
  }
  if (!result.ok()) {
    std::fprintf(stderr, "cloze worker: %s%s\n", prefix.c_str(), std::string(result.status().message()).c_str());
    std::fflush(nullptr);
    // Leave at once: MPI_Finalize (run at exit) would wait for the other ranks, which may be
    // inside a collective with this one, and this rank would go silent instead of failing.
    std::_Exit(absl::IsAborted(result.status()) ? kExitRestart : ExitStatusOf(result.status()));
  }
  const TrainSummary& s = result->summary;
  std::fprintf(stderr, "%sworker %d of %d %s at step %lld (started at %lld); last checkpoint %s\n", prefix.c_str(),
               result->rank, result->world_size, s.interrupted ? "stopped" : "finished",
               static_cast<long long>(s.end_step), static_cast<long long>(s.start_step), s.last_checkpoint.c_str());
  return 0;
}

}  // namespace cloze::cli
