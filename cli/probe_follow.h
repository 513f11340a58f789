// `cloze probe --follow RUN_DIR`: a prober beside a training run (issue 13, "on a schedule
// during pretraining"). It polls the run folder's committed checkpoints (the listing the
// trainer and cloze verify use), probes each wanted one as it appears, and exits once the
// run has finished and its last checkpoint is probed.
//
// It reads the run folder and writes only probes.jsonl (through `probe`) and its own lock,
// probe.lock: never run.lock, which the training job holds. A probe that fails is retried
// at the next polls, at most max_attempts times in all, then skipped with a message; it
// never ends the follower. Killed and started again, it redoes nothing: what is in
// probes.jsonl counts as done (ProbeCheckpoints).
#ifndef CLOZE_CLI_PROBE_FOLLOW_H_
#define CLOZE_CLI_PROBE_FOLLOW_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/probe_run.h"

namespace cloze::cli {

inline constexpr char kProbeLockFileName[] = "probe.lock";

struct FollowOptions {
  std::string run_dir;
  // Of the checkpoints the run's schedule makes (checkpoint.every_steps of its
  // train_config.pb.txt), every K-th: steps that are multiples of K × every_steps. With
  // every_steps 0 (checkpoints only at the end or on a stop), or K ≤ 1: every checkpoint.
  // The run's last checkpoint (at total_steps) is always probed.
  int every_checkpoints = 1;
  absl::Duration poll = absl::Seconds(30);
  int max_attempts = 3;  // tries of one checkpoint before it is skipped
  const std::atomic<bool>* stop = nullptr;  // set (SIGTERM, SIGINT): return between checkpoints
  // Probes one checkpoint into probes.jsonl (ProbeCheckpoints on it alone).
  std::function<absl::StatusOr<ProbeRunSummary>(const CheckpointToProbe&)> probe;
  std::function<void(const std::string&)> log;
};

struct FollowSummary {
  bool finished = false;  // the run ended and its wanted checkpoints are probed or given up
  int probed = 0;         // checkpoints probed now
  int already_done = 0;   // found complete in probes.jsonl
  int skipped = 0;        // gone before they could be read
  int given_up = 0;       // failed max_attempts times
};

// Follows until the run has finished (then its last checkpoint is probed) or options.stop
// is set. Errors only for a run folder that cannot be followed: missing, or its
// train_config.pb.txt unreadable (a run not yet started, without one, is waited for).
absl::StatusOr<FollowSummary> FollowRun(const FollowOptions& options);

}  // namespace cloze::cli

#endif  // CLOZE_CLI_PROBE_FOLLOW_H_
