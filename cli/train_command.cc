// cloze train: pretraining on a prepared dataset, resumable, with metrics.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "absl/flags/flag.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "trainer/train_config.h"
#include "trainer/trainer.h"

ABSL_FLAG(int64_t, stop_after_step, 0, "cloze train: stop (with a checkpoint) after this step; 0: run to total_steps");
ABSL_FLAG(std::vector<std::string>, testing_nonfinite_loss_steps, {},
          "cloze train: fault injection for tests: these steps report a NaN loss");

namespace cloze::cli {
namespace {

std::atomic<bool> g_stop{false};

// First SIGTERM/SIGINT: finish the step, write a checkpoint, exit 0. A second one kills.
void OnSignal(int) {
  if (g_stop.exchange(true)) _exit(130);
}

std::string Duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  return s >= 3600 ? absl::StrFormat("%ldh%02ldm", s / 3600, s / 60 % 60) : absl::StrFormat("%ldm%02lds", s / 60, s % 60);
}

}  // namespace

int RunTrainCommand(const std::vector<std::string>& args) {
  const std::string config_path = absl::GetFlag(FLAGS_config), run_dir = absl::GetFlag(FLAGS_run_dir);
  if (!args.empty() || config_path.empty() || run_dir.empty()) {
    std::fprintf(stderr, "usage: cloze train --config=TRAIN_CONFIG --run_dir=DIR [--stop_after_step=N "
                         "--metrics_address=HOST:PORT]\n");
    return 2;
  }
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);

  const bool terminal = isatty(STDERR_FILENO);
  TrainOptions options;
  options.config = *config;
  options.run_dir = run_dir;
  options.stop_after_step = absl::GetFlag(FLAGS_stop_after_step);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.run_name = absl::GetFlag(FLAGS_run_name).empty() ? std::filesystem::path(run_dir).filename().string()
                                                            : absl::GetFlag(FLAGS_run_name);
  options.stop_requested = &g_stop;
  options.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  for (const std::string& step : absl::GetFlag(FLAGS_testing_nonfinite_loss_steps)) {
    int64_t value = 0;
    if (!absl::SimpleAtoi(step, &value)) {
      std::fprintf(stderr, "cloze train: --testing_nonfinite_loss_steps: \"%s\" is not a step\n", step.c_str());
      return 2;
    }
    options.nonfinite_loss_steps.push_back(value);
  }
  const int64_t log_every = config->log_every_steps();
  options.on_event = [terminal](const std::string& message) {
    std::fprintf(stderr, "%s[cloze] %s\n", terminal ? "\r\033[K" : "", message.c_str());
  };
  options.on_step = [terminal, log_every](const StepRecord& r, int64_t total, double elapsed) {
    static int64_t first_step = -1;
    if (first_step < 0) first_step = r.step - 1;
    const double per_step = elapsed / std::max<int64_t>(1, r.step - first_step);
    const std::string eta = Duration(per_step * static_cast<double>(total - r.step));
    if (terminal) {
      const int width = 30, done = static_cast<int>(width * r.step / std::max<int64_t>(1, total));
      std::fprintf(stderr, "\r\033[K[%s%s] step %lld/%lld loss %.4f mlm acc %.3f lr %.2e %.0f tok/s ETA %s",
                   std::string(done, '#').c_str(), std::string(width - done, '.').c_str(),
                   static_cast<long long>(r.step), static_cast<long long>(total), r.loss, r.mlm_accuracy,
                   r.learning_rate, r.tokens_per_second, eta.c_str());
      std::fflush(stderr);
    } else if (r.step % log_every == 0 || r.step == total) {
      std::fprintf(stderr, "step %lld/%lld loss %.4f mlm_loss %.4f sop_loss %.4f mlm_acc %.4f sop_acc %.4f lr %.3e "
                           "grad_norm %.3f tokens/s %.0f%s ETA %s\n",
                   static_cast<long long>(r.step), static_cast<long long>(total), r.loss, r.mlm_loss, r.sentence_loss,
                   r.mlm_accuracy, r.sentence_accuracy, r.learning_rate, r.grad_norm, r.tokens_per_second,
                   r.skipped ? " SKIPPED" : "", eta.c_str());
    }
  };

  absl::StatusOr<TrainSummary> summary = Train(options);
  if (terminal) std::fprintf(stderr, "\n");
  if (!summary.ok()) {
    std::fprintf(stderr, "cloze train: %s\n", std::string(summary.status().message()).c_str());
    return 1;
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
