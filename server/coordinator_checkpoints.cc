#include "server/coordinator_checkpoints.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "checkpoint/checkpoint.h"

namespace cloze {
namespace {

bool IsLowerHex(const std::string& text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
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

}  // namespace cloze
