// cloze launch: a whole job on this machine (server/launcher.h).
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/progress.h"
#include "cli/stop_signal.h"
#include "nlohmann/json.hpp"
#include "server/launcher.h"
#include "trainer/train_config.h"

ABSL_FLAG(int, workers, 0, "cloze launch: workers (0: the config's distributed.workers, or 1)");
ABSL_FLAG(int, ps, -1, "cloze launch: parameter servers (-1: the config's distributed.parameter_servers)");
ABSL_FLAG(int, max_restarts, 20, "cloze launch: give up after this many process restarts");

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

// The job's first and last steps and the mean MLM accuracy of its first and last 20, from
// metrics.jsonl (the chief worker's log): what `cloze train` prints at its end.
void PrintLearningSummary(const std::string& run_dir) {
  std::ifstream in(run_dir + "/metrics.jsonl");
  std::vector<nlohmann::json> steps;
  for (std::string line; std::getline(in, line);) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (record.is_object() && record.contains("step") && record.contains("loss")) steps.push_back(std::move(record));
  }
  if (steps.empty()) return;
  auto mean_accuracy = [&](size_t first, size_t end) {
    double sum = 0;
    for (size_t i = first; i < end; ++i) sum += steps[i].value("mlm_acc", 0.0);
    return sum / static_cast<double>(end - first);
  };
  const size_t window = std::min<size_t>(20, steps.size());
  std::printf("  loss: %.4f at step %lld -> %.4f at step %lld\n", steps.front().value("loss", 0.0),
              steps.front().value("step", 0LL), steps.back().value("loss", 0.0), steps.back().value("step", 0LL));
  std::printf("  MLM accuracy (mean of up to 20 steps): %.4f at the start -> %.4f at the end\n",
              mean_accuracy(0, window), mean_accuracy(steps.size() - window, steps.size()));
}

std::string SelfPath() {
  char path[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, n) : "cloze";
}

}  // namespace

int RunLaunchCommand(const std::vector<std::string>& args) {
  const std::string config_path = absl::GetFlag(FLAGS_config), run_dir = absl::GetFlag(FLAGS_run_dir);
  if (!args.empty() || config_path.empty() || run_dir.empty()) {
    std::fprintf(stderr, "usage: cloze launch --config=TRAIN_CONFIG --run_dir=DIR [--workers=N --ps=M "
                         "--max_restarts=K --device=cpu|cuda]\n");
    return 2;
  }
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  DistributedConfig& distributed = *config->mutable_distributed();
  if (absl::GetFlag(FLAGS_workers) > 0) distributed.set_workers(absl::GetFlag(FLAGS_workers));
  if (absl::GetFlag(FLAGS_ps) >= 0) distributed.set_parameter_servers(absl::GetFlag(FLAGS_ps));
  if (distributed.workers() < 1) distributed.set_workers(1);
  if (absl::Status s = ValidateTrainConfig(*config); !s.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(s.message()).c_str());
    return 2;
  }
  absl::StatusOr<TrainingDevice> device = TrainingDeviceFromFlags();
  if (!device.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(device.status().message()).c_str());
    return 2;
  }
  if (device->kind == TrainingDevice::Kind::kCuda && distributed.workers() > 1 && distributed.parameter_servers() > 0) {
    // The workers would refuse it (worker/worker.h) and be restarted until max_restarts.
    std::fprintf(stderr, "cloze launch: --device=cuda with %d workers and parameter servers: not supported; use "
                         "all-reduce (--ps=0) or --device=cpu\n", distributed.workers());
    return 2;
  }
  const std::atomic<bool>* stop = StopOnSignals();

  const bool terminal = isatty(STDERR_FILENO);
  const int64_t total = config->total_steps(), log_every = std::max<int64_t>(1, config->log_every_steps());
  LaunchOptions options;
  options.cloze_binary = SelfPath();
  options.config = *config;
  options.run_dir = std::filesystem::absolute(run_dir).string();
  options.max_restarts = absl::GetFlag(FLAGS_max_restarts);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.threads_per_worker = absl::GetFlag(FLAGS_threads);
  // --gpu is per worker: the launcher gives the i-th worker GPU i.
  options.gpu_workers = device->kind == TrainingDevice::Kind::kCuda;
  options.worker_flags = {absl::StrCat("--gpu_precision=", absl::GetFlag(FLAGS_gpu_precision)),
                          absl::StrCat("--gpu_attention=", absl::GetFlag(FLAGS_gpu_attention))};
  options.stop_requested = stop;
  if (!absl::GetFlag(FLAGS_testing_nonfinite_loss_steps).empty()) {  // tests only: every worker injects the same
    options.worker_flags.push_back(absl::StrCat("--testing_nonfinite_loss_steps=",
                                                absl::StrJoin(absl::GetFlag(FLAGS_testing_nonfinite_loss_steps), ",")));
  }
  options.on_event = EventPrinter(terminal, "launch: ");
  int64_t last_logged = -1;
  options.on_status = [&](const JobStatus& status) {
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
  absl::StatusOr<LaunchSummary> summary = Launch(options);
  if (terminal) std::fprintf(stderr, "\n");
  if (!summary.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(summary.status().message()).c_str());
    return 1;
  }
  const JobStatus& last = summary->last_status;
  std::printf("\n%s %s: %d workers%s, %d process restarts, %lld generation restarts\n",
              summary->finished ? "finished" : "stopped", run_dir.c_str(), distributed.workers(),
              distributed.parameter_servers() > 0 ? absl::StrFormat(", %d parameter servers", distributed.parameter_servers()).c_str() : "",
              summary->restarts, static_cast<long long>(last.restarts()));
  PrintLearningSummary(options.run_dir);
  std::printf("  last checkpoint: %s\n", last.last_committed_path().c_str());
  std::printf("  metrics: %s/metrics.jsonl; logs: %s/logs/\n", run_dir.c_str(), run_dir.c_str());
  return summary->finished || stop->load() ? 0 : 1;
}

}  // namespace cloze::cli
