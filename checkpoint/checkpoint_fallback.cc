#include "checkpoint/checkpoint_fallback.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "checkpoint/checkpoint_internal.h"

namespace cloze {

absl::StatusOr<ValidCheckpoint> FindLatestValidCheckpoint(const std::string& run_dir,
                                                          const CheckpointOptions& options) {
  absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(run_dir, options);
  if (!steps.ok()) return steps.status();
  for (auto step = steps->rbegin(); step != steps->rend(); ++step) {
    const std::string path = JoinPath(JoinPath(run_dir, kCheckpointsDirName), CheckpointDirName(*step));
    const absl::Status verified = VerifyCheckpoint(path, options);
    if (verified.ok()) return ValidCheckpoint{*step, path};
    if (!absl::IsDataLoss(verified)) return verified;
    Warn(options, absl::StrCat("skipping ", verified.message()));
  }
  return absl::NotFoundError(absl::StrCat(run_dir, ": no valid checkpoint",
                                          steps->empty() ? "" : " (every one is damaged; see the warnings)"));
}

absl::Status MoveCheckpointsAsideAfter(const std::string& run_dir, int64_t kept_step,
                                       const std::function<void(const std::string&)>& report,
                                       const CheckpointOptions& options) {
  absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(run_dir, options);
  if (!steps.ok()) return steps.status();
  for (int64_t damaged : *steps) {
    if (damaged <= kept_step) continue;
    const std::string from = JoinPath(JoinPath(run_dir, kCheckpointsDirName), CheckpointDirName(damaged));
    const std::string to = absl::StrCat(from, ".damaged-", absl::ToUnixSeconds(absl::Now()));
    if (absl::Status moved = FileSystemOf(options).RenameDir(from, to); !moved.ok()) {
      return absl::DataLossError(absl::StrCat(from, ": cannot move the damaged checkpoint aside: ", moved.message()));
    }
    if (report) report(absl::StrCat("moved the damaged checkpoint ", from, " aside to ", to));
  }
  return absl::OkStatus();
}

}  // namespace cloze
