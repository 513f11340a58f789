#include "server/coordinator_checkpoints.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "trainer/checkpoint.h"
#include "trainer/checkpoint_file_system.h"
#include "trainer/checkpoint_retention.h"

namespace cloze {
namespace {

bool IsLowerHex(const std::string& text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

// The step of ".step-NNNNNNNNN.partial", or -1.
int64_t PartialDirStep(const std::string& name) {
  const std::string prefix = ".step-", suffix = ".partial";
  if (!absl::StartsWith(name, prefix) || !absl::EndsWith(name, suffix)) return -1;
  int64_t step = -1;
  const std::string digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  return absl::SimpleAtoi(digits, &step) ? step : -1;
}

}  // namespace

absl::Status ValidateReportedFiles(const google::protobuf::RepeatedPtrField<CheckpointFile>& files,
                                   const std::string& field) {
  std::set<std::string> names;
  for (int i = 0; i < files.size(); ++i) {
    const CheckpointFile& file = files[i];
    const std::string where = absl::StrCat(field, "[", i, "]");
    const std::string& name = file.name();
    if (name.empty() || name.size() > 255 || name == "." || name == ".." || absl::StrContains(name, "/") ||
        absl::StrContains(name, std::string(1, '\0')) || name == kManifestFileName) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ".name: \"", absl::CEscape(name.substr(0, 64)),
                       "\" is not a file name inside the checkpoint directory"));
    }
    if (!names.insert(name).second) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".name: \"", name, "\" is listed twice"));
    }
    if (file.bytes() < 0) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".bytes: must be >= 0, got ", file.bytes()));
    }
    if (file.sha256().size() != 64 || !IsLowerHex(file.sha256())) {
      return absl::InvalidArgumentError(absl::StrCat(where, ".sha256: must be 64 lowercase hex digits"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointManifest> MergeCheckpointParts(
    int64_t step, const CheckpointManifest& rank0_manifest,
    const std::vector<const google::protobuf::RepeatedPtrField<CheckpointFile>*>& parts) {
  CheckpointManifest manifest = rank0_manifest;
  manifest.set_step(step);
  manifest.clear_files();
  std::set<std::string> names;
  for (const auto* files : parts) {
    for (const CheckpointFile& file : *files) {
      if (!names.insert(file.name()).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("checkpoint of step ", step, ": two members reported the file \"", file.name(), "\""));
      }
      *manifest.add_files() = file;
    }
  }
  return manifest;
}

absl::Status PruneAfterCommit(const std::string& run_dir, int64_t committed_step, int keep_last, int64_t keep_every) {
  if (keep_last <= 0) return absl::OkStatus();
  CheckpointFileSystem& fs = *PosixCheckpointFileSystem();
  const std::string dir = absl::StrCat(run_dir, "/", kCheckpointsDirName);
  absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(run_dir);
  if (!steps.ok()) return steps.status();
  for (int64_t step : CheckpointsToDelete(*steps, committed_step, keep_last, keep_every)) {
    const std::string doomed = absl::StrCat(dir, "/", CheckpointDirName(step));
    const std::string deleting = absl::StrCat(dir, "/.", CheckpointDirName(step), ".deleting");
    if (absl::Status s = fs.RenameDir(doomed, deleting); !s.ok()) return s;
    if (absl::Status s = fs.RemoveAll(deleting); !s.ok()) return s;
  }
  absl::StatusOr<std::vector<std::string>> names = fs.ListDir(dir);
  if (!names.ok()) return names.status();
  for (const std::string& name : *names) {
    const int64_t partial_step = PartialDirStep(name);
    const bool stale_partial = partial_step >= 0 && partial_step < committed_step;
    if (stale_partial || (absl::StartsWith(name, ".step-") && absl::EndsWith(name, ".deleting"))) {
      if (absl::Status s = fs.RemoveAll(absl::StrCat(dir, "/", name)); !s.ok()) return s;
    }
  }
  return fs.SyncDir(dir);
}

}  // namespace cloze
