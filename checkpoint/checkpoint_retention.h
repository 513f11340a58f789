// Which checkpoints a run keeps (CheckpointConfig.keep_last and keep_every).
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_RETENTION_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_RETENTION_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "checkpoint/checkpoint.h"

namespace cloze {

// The retention rule, on steps alone. Of the complete checkpoints `steps` (any order), keeps
//   - the `keep_last` newest, valid or not (0: none by this rule),
//   - every one whose step is a multiple of `keep_every` (0: none by this rule),
//   - `newest_valid`, the newest that passes VerifyCheckpoint, always;
// and returns the others, ascending. With no valid checkpoint (nullopt) it returns nothing:
// damaged checkpoints are all a run has then, and an operator may want to salvage them.
// Requires keep_last >= 0 and keep_every >= 0.
std::vector<int64_t> CheckpointsToDelete(const std::vector<int64_t>& steps, std::optional<int64_t> newest_valid,
                                         int keep_last, int64_t keep_every);

// Applies the rule to <run_dir>/checkpoints: verifies checkpoints newest first until one
// passes (reading its files: usually just the newest, still in the page cache after a
// write), warns about each damaged one met, deletes the checkpoints CheckpointsToDelete
// names, and deletes the temporary directories (".step-*.deleting", and ".step-*.partial"
// of steps up to the newest complete checkpoint: a later one may be a part being written by
// another process of a distributed job).
// A checkpoint is renamed to ".step-NNNNNNNNN.deleting" before its files are removed, so an
// interrupted deletion never leaves a half-deleted directory under a checkpoint's name.
//
// Must not run while a checkpoint of the same run is being written (it would delete the
// write's partial directory); AsyncCheckpointWriter prunes on its own thread after each
// write. OK when checkpoints/ does not exist. InvalidArgument for negative arguments; on a
// file-system error, returns it and stops, having deleted only checkpoints the rule names.
absl::Status PruneCheckpoints(const std::string& run_dir, int keep_last, int64_t keep_every,
                              const CheckpointOptions& options = {});

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_RETENTION_H_
