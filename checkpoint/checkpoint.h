// Training checkpoints: one directory per step under <run_dir>/checkpoints/.
//
//   <run_dir>/checkpoints/step-000012500/
//     model.safetensors      parameters under their Hugging Face names (ParameterLayout),
//                            F32, metadata {"format": "pt"}: loadable by transformers
//     optimizer.safetensors  exp_avg.<name>, exp_avg_sq.<name> (F32, same shapes) and
//                            "step" (F64 scalar: optimizer updates applied, for bias correction)
//     manifest.pb.txt        CheckpointManifest as a text proto: format version, step, the
//                            caller's train config, data cursor and trainer state, and the
//                            size and SHA-256 of both files
//
// Publication is atomic: everything is written into `.step-NNNNNNNNN.partial/`, each file
// fsynced, then the directory is renamed to `step-NNNNNNNNN` and the parent fsynced. A crash
// at any point leaves either nothing new or a partial directory, which loading ignores (with
// a warning) and PruneCheckpoints deletes. Only one writer may work on a run directory at a
// time (the run's chief process, through AsyncCheckpointWriter).
//
// Two kinds of bad checkpoint are told apart on loading:
//   - damaged (DataLoss): no or unparsable manifest, a listed file missing, of another size
//     or another SHA-256, a file that is not valid safetensors. Crashes, full disks and bit
//     rot do this; LoadLatestValidCheckpoint skips such a checkpoint with a warning and
//     falls back to an older one.
//   - intact but for another model (FailedPrecondition): the checksums hold, but the tensor
//     names or shapes differ from the current layout. That is a config change, not damage,
//     and silently starting over (or resuming an older checkpoint) would throw away the run:
//     it is an error naming the tensor, and loading stops there.
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/checkpoint.pb.h"
#include "checkpoint/checkpoint_file_system.h"
#include "model/parameter_layout.h"

namespace cloze {

// CheckpointManifest.format_version written, and the only one read.
inline constexpr int kCheckpointFormatVersion = 1;

inline constexpr char kCheckpointsDirName[] = "checkpoints";
inline constexpr char kModelFileName[] = "model.safetensors";
inline constexpr char kOptimizerFileName[] = "optimizer.safetensors";
inline constexpr char kManifestFileName[] = "manifest.pb.txt";

// What a checkpoint holds. The three buffers share the model's ParameterLayout (total_size
// floats each).
struct CheckpointContents {
  int64_t step = 0;            // optimizer steps completed; names the directory
  int64_t optimizer_step = 0;  // updates the optimizer applied (its bias correction's t)
  std::vector<float> parameters;
  std::vector<float> exp_avg;     // Adam/LAMB first moments
  std::vector<float> exp_avg_sq;  // second moments
  // The caller fills train_config, data_cursor and trainer_state. WriteCheckpoint sets
  // format_version, step, files and created_at itself (whatever they held is replaced).
  CheckpointManifest manifest;
};

struct CheckpointOptions {
  // Not owned; must outlive every call that uses it. nullptr: PosixCheckpointFileSystem().
  CheckpointFileSystem* file_system = nullptr;
  // Receives one line per damaged checkpoint or leftover temporary directory met, naming
  // the directory and the reason. Empty: "cloze: warning: ..." lines on stderr. Called from
  // the thread doing the work (AsyncCheckpointWriter's, for its writes and pruning).
  std::function<void(const std::string&)> warn;
};

// "step-000012500": at least 9 digits, zero-padded.
std::string CheckpointDirName(int64_t step);
// The step of a complete checkpoint's directory name; nullopt for anything else (partial
// directories included).
std::optional<int64_t> ParseCheckpointDirName(std::string_view name);
// ".step-000012500.partial": where WriteCheckpoint builds the checkpoint of `step`.
std::string PartialCheckpointDirName(int64_t step);

// Writes the checkpoint of `contents.step` and publishes it atomically as
// <run_dir>/checkpoints/step-NNNNNNNNN (creating checkpoints/ when missing; `run_dir` must
// exist). Returns that directory's path once it and its contents are durable.
//
// Errors: InvalidArgument when a buffer's size is not layout.total_size or the step is
// negative; AlreadyExists when a complete checkpoint of this step exists (never replaced);
// otherwise the file system's error, naming the path. On error no checkpoint of this step
// is visible, except when the final directory sync fails after the rename: the checkpoint
// is then complete but possibly not durable. Existing checkpoints are never touched.
// A stale partial directory of the same step (an earlier crash) is replaced. Each file is
// built in memory and written whole, one at a time: the optimizer file (twice the model)
// needs about twice its size again at peak.
absl::StatusOr<std::string> WriteCheckpoint(const std::string& run_dir, const CheckpointContents& contents,
                                            const ParameterLayout& layout, const CheckpointOptions& options = {});

// Checks a checkpoint's integrity without the model: the manifest parses, has this format
// version and the directory's step, lists model.safetensors and optimizer.safetensors, and
// every listed file has its recorded size and SHA-256. DataLoss naming the directory and
// the reason otherwise (NotFound when the directory itself is missing). Reads every file.
absl::Status VerifyCheckpoint(const std::string& checkpoint_dir, const CheckpointOptions& options = {});

// Verifies (as above) and loads a checkpoint into buffers of `layout`. DataLoss for a
// damaged checkpoint; FailedPrecondition, naming the file and tensor, when a tensor is
// missing, extra, not F32 or of another shape than in `layout` (see the top of this file).
absl::StatusOr<CheckpointContents> LoadCheckpoint(const std::string& checkpoint_dir, const ParameterLayout& layout,
                                                  const CheckpointOptions& options = {});

// The steps of the directories in <run_dir>/checkpoints named like complete checkpoints,
// ascending, whether valid or not. Empty when checkpoints/ does not exist.
absl::StatusOr<std::vector<int64_t>> ListCheckpointSteps(const std::string& run_dir,
                                                         const CheckpointOptions& options = {});

struct LoadedCheckpoint {
  std::string path;  // the checkpoint directory
  CheckpointContents contents;
};

// Loads the newest valid checkpoint of the run, trying complete checkpoints newest step
// first. Damaged ones (DataLoss) and temporary directories are skipped with a warning each.
// NotFound when there is none (no checkpoints/, or every one damaged): the caller starts
// fresh. Any other error is returned at once, not skipped: FailedPrecondition (another
// model: a config change), and I/O errors, which may pass and say nothing about the
// checkpoint; falling back to an older checkpoint then would silently discard training.
absl::StatusOr<LoadedCheckpoint> LoadLatestValidCheckpoint(const std::string& run_dir, const ParameterLayout& layout,
                                                           const CheckpointOptions& options = {});

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_H_
