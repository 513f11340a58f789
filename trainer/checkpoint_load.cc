// Verifying and loading checkpoints (see checkpoint.h for what makes one valid).
#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "data/sha256.h"
#include "trainer/checkpoint.h"
#include "trainer/checkpoint_internal.h"
#include "trainer/safetensors.h"
#include "trainer/text_proto.h"

namespace cloze {
namespace {

// A checkpoint whose manifest and listed files passed the integrity checks.
struct VerifiedFiles {
  CheckpointManifest manifest;
  std::map<std::string, std::string> bytes;  // listed file name -> contents
};

absl::Status Damaged(const std::string& dir, const std::string& reason) {
  return absl::DataLossError(absl::StrCat("checkpoint ", dir, ": ", reason));
}

absl::StatusOr<CheckpointManifest> ParseManifest(const std::string& dir, const std::string& text) {
  CheckpointManifest manifest;
  if (absl::Status s = MergeTextProto(text, kManifestFileName, &manifest); !s.ok()) {
    return Damaged(dir, absl::StrCat(s.message(), " (does not parse)"));
  }
  return manifest;
}

// Returns the step named by the directory's last component, if it is a checkpoint name.
std::optional<int64_t> StepOfDir(const std::string& dir) {
  const size_t slash = dir.find_last_of('/');
  return ParseCheckpointDirName(slash == std::string::npos ? dir : dir.substr(slash + 1));
}

absl::StatusOr<VerifiedFiles> ReadVerified(CheckpointFileSystem& fs, const std::string& dir) {
  absl::StatusOr<std::string> text = fs.ReadFile(JoinPath(dir, kManifestFileName));
  if (absl::IsNotFound(text.status())) {
    if (absl::IsNotFound(fs.ListDir(dir).status())) {
      return absl::NotFoundError(absl::StrCat("checkpoint ", dir, ": no such directory"));
    }
    return Damaged(dir, absl::StrCat("no ", kManifestFileName, " (an incomplete checkpoint)"));
  }
  if (!text.ok()) return text.status();
  VerifiedFiles verified;
  absl::StatusOr<CheckpointManifest> manifest = ParseManifest(dir, *text);
  if (!manifest.ok()) return manifest.status();
  verified.manifest = *std::move(manifest);
  const CheckpointManifest& m = verified.manifest;
  if (m.format_version() != kCheckpointFormatVersion) {
    return Damaged(dir, absl::StrCat("format_version ", m.format_version(), ", this program reads ",
                                     kCheckpointFormatVersion));
  }
  if (std::optional<int64_t> step = StepOfDir(dir); step.has_value() && *step != m.step()) {
    return Damaged(dir, absl::StrCat("the manifest says step ", m.step(), ", the directory name ", *step));
  }
  for (const CheckpointFile& file : m.files()) {
    const std::string& name = file.name();
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..") {
      return Damaged(dir, absl::StrCat("the manifest lists a file named \"", name, "\""));
    }
    if (verified.bytes.count(name) != 0) return Damaged(dir, absl::StrCat("the manifest lists ", name, " twice"));
    absl::StatusOr<std::string> bytes = fs.ReadFile(JoinPath(dir, name));
    if (absl::IsNotFound(bytes.status())) return Damaged(dir, absl::StrCat(name, " is missing"));
    if (!bytes.ok()) return bytes.status();
    if (static_cast<int64_t>(bytes->size()) != file.bytes()) {
      return Damaged(dir, absl::StrCat(name, " has ", bytes->size(), " bytes, the manifest says ", file.bytes(),
                                       " (truncated?)"));
    }
    if (data::Sha256Hex(*bytes) != file.sha256()) {
      return Damaged(dir, absl::StrCat(name, " does not match its SHA-256 in the manifest (corrupt)"));
    }
    verified.bytes[name] = *std::move(bytes);
  }
  for (const char* required : {kModelFileName, kOptimizerFileName}) {
    if (verified.bytes.count(required) == 0) {
      return Damaged(dir, absl::StrCat("the manifest does not list ", required));
    }
  }
  return verified;
}

std::string ShapeText(const std::vector<int64_t>& shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

absl::Status OtherModel(const std::string& path, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(
      path, ": ", what, ": the checkpoint is intact but was written for another model config"));
}

// Copies the tensors `prefix` + layout name into `buffer`; every tensor of the file must be
// one of `expected` (the names this file should hold, prefixes included).
absl::Status ReadTensors(const SafetensorsFile& file, const std::string& path, const ParameterLayout& layout,
                         const std::string& prefix, std::vector<float>& buffer) {
  buffer.assign(layout.total_size, 0.0f);
  for (const NamedTensor& t : layout.tensors) {
    const std::string name = prefix + t.name;
    auto it = file.entries().find(name);
    if (it == file.entries().end()) return OtherModel(path, absl::StrCat("tensor ", name, " is missing"));
    if (it->second.dtype != "F32") {
      return OtherModel(path, absl::StrCat("tensor ", name, " is ", it->second.dtype, ", not F32"));
    }
    if (it->second.shape != t.shape) {
      return OtherModel(path, absl::StrCat("tensor ", name, " has shape ", ShapeText(it->second.shape),
                                           ", the current model ", ShapeText(t.shape)));
    }
    absl::StatusOr<std::vector<float>> values = file.Float32(name);
    if (!values.ok()) return values.status();
    std::copy(values->begin(), values->end(), buffer.begin() + t.offset);
  }
  return absl::OkStatus();
}

absl::Status CheckNoExtraTensors(const SafetensorsFile& file, const std::string& path,
                                 const std::set<std::string>& expected) {
  for (const auto& [name, entry] : file.entries()) {
    if (expected.count(name) == 0) {
      return OtherModel(path, absl::StrCat("tensor ", name, " is not in the current model"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SafetensorsFile> ParseListed(VerifiedFiles& verified, const std::string& dir, const char* name) {
  absl::StatusOr<SafetensorsFile> file =
      SafetensorsFile::Parse(std::move(verified.bytes[name]), JoinPath(dir, name));
  verified.bytes.erase(name);
  // Matching checksums but invalid content: the writer was broken or the manifest forged.
  if (!file.ok()) return Damaged(dir, std::string(file.status().message()));
  return file;
}

}  // namespace

absl::Status VerifyCheckpoint(const std::string& checkpoint_dir, const CheckpointOptions& options) {
  return ReadVerified(FileSystemOf(options), checkpoint_dir).status();
}

absl::StatusOr<CheckpointContents> LoadCheckpoint(const std::string& checkpoint_dir, const ParameterLayout& layout,
                                                  const CheckpointOptions& options) {
  absl::StatusOr<VerifiedFiles> verified = ReadVerified(FileSystemOf(options), checkpoint_dir);
  if (!verified.ok()) return verified.status();
  CheckpointContents contents;
  contents.step = verified->manifest.step();

  std::set<std::string> model_names;
  for (const NamedTensor& t : layout.tensors) model_names.insert(t.name);
  {
    absl::StatusOr<SafetensorsFile> model = ParseListed(*verified, checkpoint_dir, kModelFileName);
    if (!model.ok()) return model.status();
    const std::string path = JoinPath(checkpoint_dir, kModelFileName);
    if (absl::Status s = ReadTensors(*model, path, layout, "", contents.parameters); !s.ok()) return s;
    if (absl::Status s = CheckNoExtraTensors(*model, path, model_names); !s.ok()) return s;
  }
  {
    absl::StatusOr<SafetensorsFile> optimizer = ParseListed(*verified, checkpoint_dir, kOptimizerFileName);
    if (!optimizer.ok()) return optimizer.status();
    const std::string path = JoinPath(checkpoint_dir, kOptimizerFileName);
    if (absl::Status s = ReadTensors(*optimizer, path, layout, kExpAvgPrefix, contents.exp_avg); !s.ok()) return s;
    if (absl::Status s = ReadTensors(*optimizer, path, layout, kExpAvgSqPrefix, contents.exp_avg_sq); !s.ok()) {
      return s;
    }
    std::set<std::string> expected = {kOptimizerStepTensor};
    for (const std::string& name : model_names) {
      expected.insert(kExpAvgPrefix + name);
      expected.insert(kExpAvgSqPrefix + name);
    }
    if (absl::Status s = CheckNoExtraTensors(*optimizer, path, expected); !s.ok()) return s;
    absl::StatusOr<std::vector<double>> step = optimizer->Float64(kOptimizerStepTensor);
    if (!step.ok() || step->size() != 1 || !((*step)[0] >= 0) || (*step)[0] > double(int64_t{1} << 53) ||
        (*step)[0] != static_cast<double>(static_cast<int64_t>((*step)[0]))) {
      return Damaged(checkpoint_dir, absl::StrCat(kOptimizerFileName, ": \"", kOptimizerStepTensor,
                                                  "\" is not one F64 natural number"));
    }
    contents.optimizer_step = static_cast<int64_t>((*step)[0]);
  }
  contents.manifest = std::move(verified->manifest);
  return contents;
}

absl::StatusOr<LoadedCheckpoint> LoadLatestValidCheckpoint(const std::string& run_dir, const ParameterLayout& layout,
                                                           const CheckpointOptions& options) {
  const std::string checkpoints = JoinPath(run_dir, kCheckpointsDirName);
  absl::StatusOr<std::vector<std::string>> names = FileSystemOf(options).ListDir(checkpoints);
  if (absl::IsNotFound(names.status())) {
    return absl::NotFoundError(absl::StrCat(run_dir, ": no checkpoints (", checkpoints, " does not exist)"));
  }
  if (!names.ok()) return names.status();
  std::vector<int64_t> steps;
  for (const std::string& name : *names) {
    if (IsTemporaryCheckpointDir(name)) {
      Warn(options, absl::StrCat("ignoring ", JoinPath(checkpoints, name),
                                 ": left by an interrupted checkpoint write or deletion"));
    } else if (std::optional<int64_t> step = ParseCheckpointDirName(name)) {
      steps.push_back(*step);
    }
  }
  std::sort(steps.rbegin(), steps.rend());
  for (int64_t step : steps) {
    const std::string dir = JoinPath(checkpoints, CheckpointDirName(step));
    absl::StatusOr<CheckpointContents> contents = LoadCheckpoint(dir, layout, options);
    if (contents.ok()) return LoadedCheckpoint{dir, *std::move(contents)};
    // Only damage is skipped: another model is a config change, and an I/O error may pass;
    // falling back to an older checkpoint would silently drop training already done.
    if (!absl::IsDataLoss(contents.status())) return contents.status();
    Warn(options, absl::StrCat("skipping ", contents.status().message()));
  }
  return absl::NotFoundError(absl::StrCat(run_dir, ": no valid checkpoint in ", checkpoints,
                                          steps.empty() ? "" : " (every one is damaged; see the warnings)"));
}

}  // namespace cloze
