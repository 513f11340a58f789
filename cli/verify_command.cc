// cloze verify PATH...: checkpoints checked against their manifests (sizes and SHA-256 of
// every file, checkpoint/checkpoint.h's VerifyCheckpoint, which resuming uses too), for
// operators before they copy, archive or resume a run.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "checkpoint/checkpoint.h"
#include "cli/commands.h"
#include "util/exit_status.h"

namespace cloze::cli {
namespace {

namespace fs = std::filesystem;

bool IsCheckpointDir(const fs::path& path) {
  return ParseCheckpointDirName(path.filename().string()).has_value() || fs::exists(path / kManifestFileName);
}

// The checkpoints at `path`: itself when it is one, else the complete checkpoints of every
// run below it (a run folder, a fine-tune's seed-K/ folders, an evaluation's task folders),
// each run's in step order. Moved-aside (step-N.damaged-...) and partial ones are not runs'
// checkpoints and are left out.
absl::StatusOr<std::vector<std::string>> CheckpointsAt(const fs::path& path) {
  if (IsCheckpointDir(path)) return std::vector<std::string>{path.string()};
  std::vector<fs::path> runs;
  std::error_code error;
  if (fs::is_directory(path / kCheckpointsDirName)) runs.push_back(path);
  for (fs::recursive_directory_iterator it(path, error), end; !error && it != end; it.increment(error)) {
    if (!it->is_directory() || it->path().filename() != kCheckpointsDirName) continue;
    it.disable_recursion_pending();  // a checkpoint's files hold no runs
    if (it->path().parent_path() != path) runs.push_back(it->path().parent_path());
  }
  if (error) return absl::UnavailableError(absl::StrCat(path.string(), ": ", error.message()));
  std::sort(runs.begin(), runs.end());
  std::vector<std::string> checkpoints;
  for (const fs::path& run : runs) {
    absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(run.string());
    if (!steps.ok()) return steps.status();
    for (int64_t step : *steps) checkpoints.push_back((run / kCheckpointsDirName / CheckpointDirName(step)).string());
  }
  return checkpoints;
}

std::string Size(uintmax_t bytes) {
  return bytes >= (1u << 20) ? absl::StrFormat("%.1f MiB", bytes / double(1u << 20)) : absl::StrFormat("%d bytes", bytes);
}

// Files and bytes of a checkpoint directory that verified.
std::string Contents(const fs::path& dir) {
  int files = 0;
  uintmax_t bytes = 0;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, error)) {
    if (!entry.is_regular_file()) continue;
    ++files;
    bytes += entry.file_size();
  }
  return absl::StrFormat("%d files, %s", files, Size(bytes));
}

}  // namespace

int RunVerifyCommand(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fprintf(stderr, "usage: cloze verify CHECKPOINT_DIR|RUN_DIR...\n");
    return kExitUsage;
  }
  int valid = 0, damaged = 0, unreadable = 0;
  for (const std::string& arg : args) {
    if (!fs::is_directory(arg)) {
      std::fprintf(stderr, "cloze verify: %s: not a folder\n", arg.c_str());
      return kExitUsage;
    }
    absl::StatusOr<std::vector<std::string>> checkpoints = CheckpointsAt(arg);
    if (!checkpoints.ok()) {
      std::fprintf(stderr, "cloze verify: %s\n", std::string(checkpoints.status().message()).c_str());
      ++unreadable;
      continue;
    }
    if (checkpoints->empty()) std::printf("no checkpoints  %s\n", arg.c_str());
    for (const std::string& checkpoint : *checkpoints) {
      const absl::Status verified = VerifyCheckpoint(checkpoint);
      if (verified.ok()) {
        std::printf("valid    %s (%s)\n", checkpoint.c_str(), Contents(checkpoint).c_str());
        ++valid;
      } else if (absl::IsDataLoss(verified) || absl::IsNotFound(verified)) {
        std::printf("DAMAGED  %s\n", std::string(verified.message()).c_str());  // names the file and what differs
        ++damaged;
      } else {
        std::printf("ERROR    %s: %s\n", checkpoint.c_str(), std::string(verified.message()).c_str());
        ++unreadable;
      }
    }
  }
  std::printf("%d valid, %d damaged%s\n", valid, damaged,
              unreadable > 0 ? absl::StrFormat(", %d unreadable", unreadable).c_str() : "");
  if (damaged > 0) return kExitDataError;
  if (unreadable > 0) return kExitFailure;
  return valid > 0 ? kExitOk : kExitNoCheckpoint;
}

}  // namespace cloze::cli
