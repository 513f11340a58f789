// Falling back from damaged checkpoints, the same way for every process that resumes a run
// (cloze train's TrainingRun, a distributed job's coordinator): find the newest checkpoint
// that verifies, and move the damaged newer ones aside so that the run can write those
// steps again.
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_FALLBACK_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_FALLBACK_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "checkpoint/checkpoint.h"

namespace cloze {

struct ValidCheckpoint {
  int64_t step = 0;
  std::string path;  // <run_dir>/checkpoints/step-NNNNNNNNN
};

// The newest complete checkpoint of the run that passes VerifyCheckpoint (reading its
// files), newest step first. Damaged ones (DataLoss) are skipped with a warning each
// (options.warn). NotFound when there is none (no checkpoints/, or every one damaged); any
// other error is returned at once (an I/O error may pass: falling back then would drop
// training already done).
absl::StatusOr<ValidCheckpoint> FindLatestValidCheckpoint(const std::string& run_dir,
                                                          const CheckpointOptions& options = {});

// Moves every complete checkpoint of the run newer than `kept_step` (-1: every one) aside,
// renaming step-N to step-N.damaged-<unix seconds>: not deleted, an operator may want them.
// For a run that fell back to `kept_step` past damaged checkpoints; `report` gets one line
// per checkpoint moved. Errors name the checkpoint that could not be moved.
absl::Status MoveCheckpointsAsideAfter(const std::string& run_dir, int64_t kept_step,
                                       const std::function<void(const std::string&)>& report,
                                       const CheckpointOptions& options = {});

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_FALLBACK_H_
