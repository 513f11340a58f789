// Shared by the checkpoint library's .cc files; not part of its interface.
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_INTERNAL_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_INTERNAL_H_

#include <cstdio>
#include <string>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/status/statusor.h"
#include "checkpoint/checkpoint.h"

namespace cloze {

// Tensor names in optimizer.safetensors.
inline constexpr char kExpAvgPrefix[] = "exp_avg.";
inline constexpr char kExpAvgSqPrefix[] = "exp_avg_sq.";
inline constexpr char kOptimizerStepTensor[] = "step";

inline std::string JoinPath(const std::string& dir, const std::string& name) { return absl::StrCat(dir, "/", name); }

inline CheckpointFileSystem& FileSystemOf(const CheckpointOptions& options) {
  return options.file_system != nullptr ? *options.file_system : *PosixCheckpointFileSystem();
}

inline void Warn(const CheckpointOptions& options, const std::string& message) {
  if (options.warn) {
    options.warn(message);
  } else {
    std::fprintf(stderr, "cloze: warning: %s\n", message.c_str());
  }
}

// A temporary directory of the checkpoint writer or of PruneCheckpoints (".step-*.partial",
// ".step-*.deleting"): never a checkpoint, and garbage unless a write is in progress.
inline bool IsTemporaryCheckpointDir(std::string_view name) {
  return name.starts_with(".step-") && (name.ends_with(".partial") || name.ends_with(".deleting"));
}

// CommitCheckpoint, optionally without re-reading the listed files (when the caller wrote
// them itself, as WriteCheckpoint does).
absl::StatusOr<std::string> PublishPartialCheckpoint(const std::string& run_dir, CheckpointManifest manifest,
                                                     bool verify_files, const CheckpointOptions& options);

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_INTERNAL_H_
