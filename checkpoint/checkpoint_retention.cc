#include "checkpoint/checkpoint_retention.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "checkpoint/checkpoint_internal.h"

namespace cloze {

std::vector<int64_t> CheckpointsToDelete(const std::vector<int64_t>& steps, std::optional<int64_t> newest_valid,
                                         int keep_last, int64_t keep_every) {
  if (!newest_valid.has_value()) return {};
  const std::set<int64_t> sorted(steps.begin(), steps.end());
  std::set<int64_t> kept = {*newest_valid};
  int newest = 0;
  for (auto it = sorted.rbegin(); it != sorted.rend() && newest < keep_last; ++it, ++newest) kept.insert(*it);
  std::vector<int64_t> deleted;
  for (int64_t step : sorted) {
    const bool multiple = keep_every > 0 && step % keep_every == 0;
    if (!multiple && kept.count(step) == 0) deleted.push_back(step);
  }
  return deleted;
}

absl::Status PruneCheckpoints(const std::string& run_dir, int keep_last, int64_t keep_every,
                              const CheckpointOptions& options) {
  if (keep_last < 0 || keep_every < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("PruneCheckpoints: keep_last ", keep_last, " and keep_every ", keep_every, " must be >= 0"));
  }
  CheckpointFileSystem& fs = FileSystemOf(options);
  const std::string checkpoints = JoinPath(run_dir, kCheckpointsDirName);
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(checkpoints);
  if (absl::IsNotFound(names.status())) return absl::OkStatus();
  if (!names.ok()) return names.status();

  std::vector<int64_t> steps;
  for (const std::string& name : *names) {
    if (std::optional<int64_t> step = ParseCheckpointDirName(name)) steps.push_back(*step);
  }
  const int64_t newest = steps.empty() ? -1 : *std::max_element(steps.begin(), steps.end());
  // Temporary directories first, so that the ".deleting" names below are free. A partial
  // directory of a step after the newest checkpoint may be a write in progress by another
  // process of a distributed job (checkpoint_parts.h): left alone.
  for (const std::string& name : *names) {
    if (!IsTemporaryCheckpointDir(name)) continue;
    if (name.ends_with(".partial")) {
      const std::optional<int64_t> step =
          ParseCheckpointDirName(name.substr(1, name.size() - 1 - std::string_view(".partial").size()));
      if (step.has_value() && *step > newest) continue;
    }
    if (absl::Status s = fs.RemoveAll(JoinPath(checkpoints, name)); !s.ok()) return s;
  }
  std::sort(steps.rbegin(), steps.rend());
  std::optional<int64_t> newest_valid;
  for (int64_t step : steps) {
    absl::Status verified = VerifyCheckpoint(JoinPath(checkpoints, CheckpointDirName(step)), options);
    if (verified.ok()) {
      newest_valid = step;
      break;
    }
    // An I/O error says nothing about the checkpoint: stop rather than delete on a guess.
    if (!absl::IsDataLoss(verified)) return verified;
    Warn(options, std::string(verified.message()));
  }
  for (int64_t step : CheckpointsToDelete(steps, newest_valid, keep_last, keep_every)) {
    const std::string doomed = JoinPath(checkpoints, absl::StrCat(".", CheckpointDirName(step), ".deleting"));
    if (absl::Status s = fs.RenameDir(JoinPath(checkpoints, CheckpointDirName(step)), doomed); !s.ok()) return s;
    // The rename must be durable before any file goes, or a power loss could bring back a
    // checkpoint's name over a half-deleted directory.
    if (absl::Status s = fs.SyncDir(checkpoints); !s.ok()) return s;
    if (absl::Status s = fs.RemoveAll(doomed); !s.ok()) return s;
  }
  return fs.SyncDir(checkpoints);
}

}  // namespace cloze
