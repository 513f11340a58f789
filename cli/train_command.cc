// cloze train: pretraining on a prepared dataset, resumable, with metrics.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "util/exit_status.h"
#include "util/run_dir_lock.h"
#include "cli/common_flags.h"
#include "cli/probe_sidecar.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "trainer/train_config.h"
#include "trainer/trainer.h"
#include "trainer/training_backend.h"

ABSL_FLAG(int64_t, stop_after_step, 0, "cloze train: stop (with a checkpoint) after this step; 0: run to total_steps");

namespace cloze::cli {

int RunTrainCommand(const std::vector<std::string>& args) {
  const std::string config_path = absl::GetFlag(FLAGS_config), run_dir = absl::GetFlag(FLAGS_run_dir);
  if (!args.empty() || config_path.empty() || run_dir.empty()) {
    std::fprintf(stderr, "usage: cloze train --config=TRAIN_CONFIG --run_dir=DIR [--stop_after_step=N "
                         "--metrics_address=HOST:PORT --device=cpu|cuda --gpu=N]\n");
    return kExitUsage;
  }
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<TrainingDevice> device = TrainingDeviceFromFlags();
  if (!device.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(device.status().message()).c_str());
    return kExitUsage;
  }
  // The device before the run folder: a job that cannot run leaves no folder behind.
  if (absl::Status s = SelectTrainingDevice(*device); !s.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  if (std::optional<uint64_t> seed = SeedFromCommandLine()) config->set_seed(*seed);
  // One job per run folder: a second one would interleave checkpoints and metrics.
  absl::StatusOr<RunDirLock> lock = RunDirLock::Acquire(run_dir, "cloze train");
  if (!lock.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(lock.status().message()).c_str());
    return ExitStatusOf(lock.status());  // 1 (in use), 73 (read-only, no permission)
  }
  const std::atomic<bool>* stop = StopOnSignals();

  const bool terminal = isatty(STDERR_FILENO);
  TrainOptions options;
  options.config = *config;
  options.run_dir = run_dir;
  options.device = *device;
  options.stop_after_step = absl::GetFlag(FLAGS_stop_after_step);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.run_name = absl::GetFlag(FLAGS_run_name).empty() ? std::filesystem::path(run_dir).filename().string()
                                                            : absl::GetFlag(FLAGS_run_name);
  options.stop_requested = stop;
  options.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  absl::StatusOr<std::vector<int64_t>> nonfinite = NonfiniteLossStepsFromFlag();
  if (!nonfinite.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(nonfinite.status().message()).c_str());
    return kExitUsage;
  }
  options.nonfinite_loss_steps = *std::move(nonfinite);
  const int64_t log_every = config->log_every_steps();
  options.on_event = EventPrinter(terminal);
  // The config's prober (probe {}), beside the run and never part of its outcome.
  std::unique_ptr<ProbeSidecar> prober = StartProberIfConfigured(*config, run_dir, options.on_event);
  options.on_step = [print = StepPrinter(terminal, log_every), prober = prober.get()](
                        const StepRecord& record, int64_t total_steps, double elapsed_seconds) mutable {
    print(record, total_steps, elapsed_seconds);
    if (prober != nullptr) prober->Check();
  };

  absl::StatusOr<TrainSummary> summary = Train(options);
  if (terminal) std::fprintf(stderr, "\n");
  if (prober != nullptr) {
    prober->Finish(summary.ok() && !summary->interrupted && summary->end_step >= config->total_steps());
  }
  if (!summary.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(summary.status().message()).c_str());
    return ExitStatusOf(summary.status());  // permanent (bad data, no usable checkpoint) or 1
  }
  const TrainSummary& s = *summary;
  std::printf("\n%s %s: steps %lld to %lld in %s (%lld skipped, %lld rollbacks)\n",
              s.interrupted || s.end_step < config->total_steps() ? "stopped" : "finished", run_dir.c_str(), static_cast<long long>(s.start_step),
              static_cast<long long>(s.end_step), Duration(s.seconds).c_str(), static_cast<long long>(s.skipped_steps),
              static_cast<long long>(s.rollbacks));
  if (s.end_step > s.start_step) {
    std::printf("  loss: %.4f at step %lld -> %.4f at step %lld\n", s.first.loss, static_cast<long long>(s.first.step),
                s.last.loss, static_cast<long long>(s.last.step));
    std::printf("  MLM accuracy (mean of up to 20 steps): %.4f at the start -> %.4f at the end\n",
                s.first_window_mlm_accuracy, s.last_window_mlm_accuracy);
  }
  std::printf("  checkpoint: %s\n", s.last_checkpoint.c_str());
  std::printf("  metrics: %s/metrics.jsonl%s\n", run_dir.c_str(),
              s.metrics_port > 0 ? absl::StrFormat(" (Prometheus endpoint was port %d)", s.metrics_port).c_str() : "");
  std::printf("  resume or extend: cloze train --config=%s --run_dir=%s (raise total_steps in the config to go on)\n",
              config_path.c_str(), run_dir.c_str());
  return 0;
}

}  // namespace cloze::cli
