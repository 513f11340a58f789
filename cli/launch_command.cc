// cloze launch: a whole job on this machine (server/launcher.h).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/str_format.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "cli/launch_job.h"
#include "cli/stop_signal.h"
#include "nlohmann/json.hpp"
#include "trainer/train_config.h"
#include "util/exit_status.h"

namespace cloze::cli {
namespace {

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

}  // namespace

int RunLaunchCommand(const std::vector<std::string>& args) {
  const std::string config_path = absl::GetFlag(FLAGS_config), run_dir = absl::GetFlag(FLAGS_run_dir);
  if (!args.empty() || config_path.empty() || run_dir.empty()) {
    std::fprintf(stderr, "usage: cloze launch --config=TRAIN_CONFIG --run_dir=DIR [--workers=N --ps=M "
                         "--max_restarts=K --device=cpu|cuda]\n");
    return kExitUsage;
  }
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<TrainingDevice> device = TrainingDeviceFromFlags();
  if (!device.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(device.status().message()).c_str());
    return kExitUsage;
  }
  if (absl::Status s = ApplyJobFlags(*config, *device); !s.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(s.message()).c_str());
    return kExitUsage;
  }
  absl::StatusOr<LaunchSummary> summary = LaunchJob(*config, run_dir, *device);
  if (!summary.ok()) {
    std::fprintf(stderr, "cloze launch: %s\n", std::string(summary.status().message()).c_str());
    // A member's permanent failure is the job's: a cluster's policy acts on the same status.
    const int status = ExitStatusOf(summary.status());
    return IsPermanentExit(status) ? status : kExitFailure;
  }
  const DistributedConfig& distributed = config->distributed();
  const JobStatus& last = summary->last_status;
  std::printf("\n%s %s: %d workers%s, %d process restarts, %lld generation restarts\n",
              summary->finished ? "finished" : "stopped", run_dir.c_str(), distributed.workers(),
              distributed.parameter_servers() > 0 ? absl::StrFormat(", %d parameter servers", distributed.parameter_servers()).c_str() : "",
              summary->restarts, static_cast<long long>(last.restarts()));
  PrintLearningSummary(run_dir);
  std::printf("  last checkpoint: %s\n", last.last_committed_path().c_str());
  std::printf("  metrics: %s/metrics.jsonl; logs: %s/logs/\n", run_dir.c_str(), run_dir.c_str());
  return summary->finished || StopOnSignals()->load() ? 0 : 1;
}

}  // namespace cloze::cli
