#include "cli/probe_follow.h"

#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "checkpoint/checkpoint.h"
#include "trainer/train_config.h"

namespace cloze::cli {
namespace {

namespace fs = std::filesystem;

// What the follower needs of the run's schedule.
struct Schedule {
  int64_t total_steps = 0;
  int64_t checkpoint_every_steps = 0;
};

// The run's config as its training wrote it; nullopt while there is none yet (the job has
// not started training).
absl::StatusOr<std::optional<Schedule>> ReadSchedule(const std::string& run_dir) {
  const std::string path = absl::StrCat(run_dir, "/train_config.pb.txt");
  if (!fs::exists(path)) return std::nullopt;
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(path);
  if (!config.ok()) return config.status();
  return Schedule{.total_steps = config->total_steps(),
                  .checkpoint_every_steps = config->checkpoint().every_steps()};
}

bool Wanted(int64_t step, const Schedule& schedule, int every_checkpoints) {
  if (every_checkpoints <= 1 || schedule.checkpoint_every_steps <= 0 || step >= schedule.total_steps) return true;
  return step % (schedule.checkpoint_every_steps * every_checkpoints) == 0;
}

// Sleeps `duration` in short slices, returning early once `stop` is set.
void SleepUnlessStopped(absl::Duration duration, const std::atomic<bool>* stop) {
  const absl::Time end = absl::Now() + duration;
  while (absl::Now() < end && !(stop != nullptr && stop->load())) {
    absl::SleepFor(std::min(absl::Milliseconds(100), end - absl::Now()));
  }
}

class Follower {
 public:
  explicit Follower(const FollowOptions& options) : options_(options) {}
  absl::StatusOr<FollowSummary> Run();

 private:
  bool Stopping() const { return options_.stop != nullptr && options_.stop->load(); }
  // Probes the wanted checkpoints of the listing not settled yet; whether all are settled.
  bool ProbeNew(const std::vector<int64_t>& steps, const Schedule& schedule);
  void Probe(int64_t step);

  const FollowOptions& options_;
  FollowSummary summary_;
  std::set<int64_t> settled_;         // probed, found done, gone, or given up
  std::map<int64_t, int> failures_;  // attempts that failed, by step
};

absl::StatusOr<FollowSummary> Follower::Run() {
  bool said_waiting = false;
  while (!Stopping()) {
    absl::StatusOr<std::optional<Schedule>> schedule = ReadSchedule(options_.run_dir);
    if (!schedule.ok()) return schedule.status();
    if (!schedule->has_value()) {
      if (!said_waiting) options_.log(absl::StrCat("waiting for ", options_.run_dir, "/train_config.pb.txt"));
      said_waiting = true;
      SleepUnlessStopped(options_.poll, options_.stop);
      continue;
    }
    absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(options_.run_dir);
    if (!steps.ok()) return steps.status();
    // Whether the run had finished before this listing: its last checkpoint is in it.
    const bool finished = !steps->empty() && steps->back() >= (*schedule)->total_steps;
    const bool all_settled = ProbeNew(*steps, **schedule);
    if (finished && all_settled) {
      summary_.finished = true;
      return summary_;
    }
    SleepUnlessStopped(options_.poll, options_.stop);
  }
  return summary_;
}

bool Follower::ProbeNew(const std::vector<int64_t>& steps, const Schedule& schedule) {
  bool all_settled = true;
  for (int64_t step : steps) {
    if (settled_.contains(step) || !Wanted(step, schedule, options_.every_checkpoints)) continue;
    if (Stopping()) return false;
    Probe(step);
    all_settled = all_settled && settled_.contains(step);
  }
  return all_settled;
}

void Follower::Probe(int64_t step) {
  const CheckpointToProbe checkpoint{
      .step = step,
      .path = absl::StrCat(options_.run_dir, "/", kCheckpointsDirName, "/", CheckpointDirName(step))};
  absl::StatusOr<ProbeRunSummary> result = options_.probe(checkpoint);
  if (result.ok()) {
    summary_.probed += result->probed;
    summary_.already_done += result->already_done;
    summary_.skipped += result->skipped;
    settled_.insert(step);
    return;
  }
  const int attempts = ++failures_[step];
  options_.log(absl::StrCat("probing ", checkpoint.path, " failed (attempt ", attempts, " of ", options_.max_attempts,
                            "): ", result.status().message()));
  if (attempts >= options_.max_attempts) {
    options_.log(absl::StrCat("gave up on ", checkpoint.path, " after ", attempts, " attempts"));
    ++summary_.given_up;
    settled_.insert(step);
  }
}

}  // namespace

absl::StatusOr<FollowSummary> FollowRun(const FollowOptions& options) {
  if (!fs::is_directory(options.run_dir)) {
    return absl::NotFoundError(absl::StrCat(options.run_dir, ": no such run folder"));
  }
  Follower follower(options);
  return follower.Run();
}

}  // namespace cloze::cli
