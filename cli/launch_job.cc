#include "cli/launch_job.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/common_flags.h"
#include "cli/probe_sidecar.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "trainer/train_config.h"
#include "util/run_dir_lock.h"

ABSL_FLAG(int, workers, 0,
          "cloze launch, cloze finetune: workers (launch, 0: the config's distributed.workers, or 1; finetune, 0: "
          "one process without the launcher)");
ABSL_FLAG(int, ps, -1, "cloze launch, cloze finetune --workers: parameter servers (-1: the config's "
                       "distributed.parameter_servers)");
ABSL_FLAG(int, max_restarts, 20, "cloze launch, cloze finetune --workers: give up after this many process restarts");

namespace cloze::cli {
namespace {

// "step 120/600 loss 7.1234 | workers 2/2 | generation 1, 0 restarts | checkpoint 100 (12s ago)"
std::string StatusLine(const JobStatus& status, int64_t total_steps) {
  int64_t step = 0;
  double loss = 0, tokens_per_second = 0;
  int workers_alive = 0, servers_alive = 0;
  for (const MemberStatus& m : status.members()) {
    if (m.role() == WORKER) {
      workers_alive += m.alive();
      tokens_per_second += m.tokens_per_second();
      if (m.rank() == 0) {
        step = m.step();
        loss = m.loss();
      }
    } else {
      servers_alive += m.alive();
    }
  }
  std::string line = absl::StrFormat("step %d/%d loss %.4f %.0f tok/s | workers %d/%d", step, total_steps, loss,
                                     tokens_per_second, workers_alive, status.world_size());
  if (status.num_servers() > 0) absl::StrAppendFormat(&line, " servers %d/%d", servers_alive, status.num_servers());
  absl::StrAppendFormat(&line, " | generation %d, %d restarts", status.generation(), status.restarts());
  if (status.last_committed_step() > 0) {
    absl::StrAppendFormat(&line, " | checkpoint %d (%s ago)", status.last_committed_step(),
                          Duration(std::max(0.0, absl::ToUnixMillis(absl::Now()) / 1000.0 -
                                                     status.last_committed_unix_seconds())));
  }
  if (status.state() == FORMING) line += " | forming";
  return line;
}

// LaunchOptions.on_status: on a terminal a redrawn line; in a log a line every
// log_every_steps steps and at the last.
std::function<void(const JobStatus&)> StatusPrinter(bool terminal, int64_t total, int64_t log_every) {
  return [terminal, total, log_every, last_logged = int64_t{-1}](const JobStatus& status) mutable {
    const std::string line = StatusLine(status, total);
    if (terminal) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      std::fflush(stderr);
      return;
    }
    int64_t step = 0;
    for (const MemberStatus& m : status.members()) {
      if (m.role() == WORKER && m.rank() == 0) step = m.step();
    }
    if (step != last_logged && (step / log_every != last_logged / log_every || step == total)) {
      last_logged = step;
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  };
}

std::string SelfPath() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, n) : "cloze";
}

}  // namespace

absl::Status ApplyJobFlags(TrainConfig& config, const TrainingDevice& device) {
  DistributedConfig& distributed = *config.mutable_distributed();
  if (absl::GetFlag(FLAGS_workers) > 0) distributed.set_workers(absl::GetFlag(FLAGS_workers));
  if (absl::GetFlag(FLAGS_ps) >= 0) distributed.set_parameter_servers(absl::GetFlag(FLAGS_ps));
  if (distributed.workers() < 1) distributed.set_workers(1);
  if (std::optional<uint64_t> seed = SeedFromCommandLine()) config.set_seed(*seed);
  if (absl::Status s = ValidateTrainConfig(config); !s.ok()) return s;
  if (device.kind == TrainingDevice::Kind::kCuda && distributed.workers() > 1 && distributed.parameter_servers() > 0) {
    // The workers would refuse it (worker/worker.h) and be restarted until max_restarts.
    return absl::InvalidArgumentError(absl::StrCat("--device=cuda with ", distributed.workers(),
                                                   " workers and parameter servers: not supported; use all-reduce "
                                                   "(--ps=0) or --device=cpu"));
  }
  return absl::OkStatus();
}

absl::StatusOr<LaunchSummary> LaunchJob(const TrainConfig& config, const std::string& run_dir,
                                        const TrainingDevice& device, const std::string& command) {
  // Output into a pipe whose reader has gone (`cloze launch 2>&1 | head -1`) must not kill the
  // launcher (its children would run on without it): writes then fail with EPIPE, and the
  // job runs to its end without being shown.
  signal(SIGPIPE, SIG_IGN);
  const bool terminal = isatty(STDERR_FILENO);
  LaunchOptions options;
  options.cloze_binary = SelfPath();
  options.config = config;
  options.run_dir = std::filesystem::absolute(run_dir).string();
  // Inherited by every process the launcher starts: a launch killed alone leaves its folder
  // locked until its coordinator and workers are gone too (they die with it: server/child_process.h).
  absl::StatusOr<RunDirLock> lock = RunDirLock::Acquire(options.run_dir, command, /*inherited_by_children=*/true);
  if (!lock.ok()) return lock.status();
  options.max_restarts = absl::GetFlag(FLAGS_max_restarts);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.threads_per_worker = absl::GetFlag(FLAGS_threads);
  // --gpu is per worker: the launcher gives the i-th worker GPU i.
  options.gpu_workers = device.kind == TrainingDevice::Kind::kCuda;
  options.worker_flags = {absl::StrCat("--gpu_precision=", absl::GetFlag(FLAGS_gpu_precision)),
                          absl::StrCat("--gpu_attention=", absl::GetFlag(FLAGS_gpu_attention))};
  options.stop_requested = StopOnSignals();
  if (!absl::GetFlag(FLAGS_testing_nonfinite_loss_steps).empty()) {  // tests only: every worker injects the same
    options.worker_flags.push_back(absl::StrCat("--testing_nonfinite_loss_steps=",
                                                absl::StrJoin(absl::GetFlag(FLAGS_testing_nonfinite_loss_steps), ",")));
  }
  options.on_event = EventPrinter(terminal, "launch: ");
  // The config's prober (probe {}), beside the job and never part of its outcome.
  std::unique_ptr<ProbeSidecar> prober = StartProberIfConfigured(config, options.run_dir, options.on_event);
  options.on_status = [print = StatusPrinter(terminal, config.total_steps(),
                                             std::max<int64_t>(1, config.log_every_steps())),
                       prober = prober.get()](const JobStatus& status) mutable {
    print(status);
    if (prober != nullptr) prober->Check();
  };
  absl::StatusOr<LaunchSummary> summary = Launch(options);
  if (terminal) std::fprintf(stderr, "\n");
  if (prober != nullptr) prober->Finish(summary.ok() && summary->finished);
  return summary;
}

}  // namespace cloze::cli
