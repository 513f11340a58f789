// Verifying and loading checkpoints (see checkpoint.h for what makes one valid).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/sha256.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/safetensors.h"
#include "util/text_proto.h"

namespace cloze {
namespace {

// A checkpoint whose manifest and listed files passed the integrity checks.
struct VerifiedFiles {
  CheckpointManifest manifest;
  std::map<std::string, std::string> bytes;  // listed file name -> contents
};

// "model" for model.safetensors and model-PART.safetensors, "optimizer" likewise, else "".
std::string FileKindOf(const std::string& name) {
  for (const char* kind : {"model", "optimizer"}) {
    const std::string k = kind;
    if (name == k + ".safetensors" || (name.starts_with(k + "-") && name.ends_with(".safetensors"))) return k;
  }
  return "";
}

absl::Status Damaged(const std::string& dir, const std::string& reason) {
  return absl::DataLossError(absl::StrCat("checkpoint ", dir, ": ", reason));
}

absl::StatusOr<CheckpointManifest> ParseManifest(const std::string& dir, const std::string& text) {
  CheckpointManifest manifest;
  if (absl::Status s = util::MergeTextProto(text, kManifestFileName, &manifest); !s.ok()) {
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
    if (util::Sha256Hex(*bytes) != file.sha256()) {
      return Damaged(dir, absl::StrCat(name, " does not match its SHA-256 in the manifest (corrupt)"));
    }
    verified.bytes[name] = *std::move(bytes);
  }
  for (const char* kind : {"model", "optimizer"}) {
    if (std::none_of(m.files().begin(), m.files().end(),
                     [&](const CheckpointFile& f) { return FileKindOf(f.name()) == kind; })) {
      return Damaged(dir, absl::StrCat("the manifest lists no ", kind, "*.safetensors file"));
    }
  }
  return verified;
}

std::string ShapeText(const std::vector<int64_t>& shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

absl::Status OtherModel(const std::string& path, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat(
      path, ": ", what, ": the checkpoint is intact but was written for another model config"));
}

// Reads the tensors of several files (the parts of a checkpoint) into `buffers`: each
// tensor named prefix + a layout name goes to the buffer of that prefix, at the layout's
// offset. Every layout tensor must come exactly once per prefix, and every tensor of the
// files must be one of them (or, with `extra_allowed`, that name).
absl::Status ReadUnionOfTensors(const std::vector<std::pair<std::string, const SafetensorsFile*>>& files,
                                const ParameterLayout& layout,
                                const std::vector<std::pair<std::string, std::vector<float>*>>& buffers,
                                const std::string& extra_allowed) {
  // In layout order, so the first mismatch reported is the first tensor of the model.
  std::vector<std::tuple<std::string, const NamedTensor*, std::vector<float>*>> wanted;
  std::set<std::string> wanted_names = {extra_allowed};
  for (const auto& [prefix, buffer] : buffers) {
    buffer->assign(layout.total_size, 0.0f);
    for (const NamedTensor& t : layout.tensors) {
      wanted.emplace_back(prefix + t.name, &t, buffer);
      wanted_names.insert(prefix + t.name);
    }
  }
  std::map<std::string, std::string> found_in;  // tensor -> file
  for (const auto& [path, file] : files) {
    for (const auto& [name, tensor, buffer] : wanted) {
      auto it = file->entries().find(name);
      if (it == file->entries().end()) continue;
      if (!found_in.emplace(name, path).second) {
        return OtherModel(path, absl::StrCat("tensor ", name, " is in ", found_in[name], " too"));
      }
      const auto& entry = it->second;
      if (entry.dtype != "F32") return OtherModel(path, absl::StrCat("tensor ", name, " is ", entry.dtype, ", not F32"));
      if (entry.shape != tensor->shape) {
        return OtherModel(path, absl::StrCat("tensor ", name, " has shape ", ShapeText(entry.shape),
                                             ", the current model ", ShapeText(tensor->shape)));
      }
      absl::StatusOr<std::vector<float>> values = file->Float32(name);
      if (!values.ok()) return values.status();
      std::copy(values->begin(), values->end(), buffer->begin() + tensor->offset);
    }
    for (const auto& [name, entry] : file->entries()) {
      if (wanted_names.count(name) == 0) {
        return OtherModel(path, absl::StrCat("tensor ", name, " is not in the current model"));
      }
    }
  }
  for (const auto& [name, tensor, buffer] : wanted) {
    if (found_in.count(name) == 0) {
      return OtherModel(files.front().first, absl::StrCat("tensor ", name, " is missing"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<SafetensorsFile> ParseListed(VerifiedFiles& verified, const std::string& dir, const std::string& name) {
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

  // Every model*/optimizer* file the manifest lists: one of each for a single-process
  // checkpoint, one per part for a distributed one (checkpoint_parts.h).
  std::vector<SafetensorsFile> model_files, optimizer_files;
  std::vector<std::pair<std::string, const SafetensorsFile*>> models, optimizers;
  std::vector<std::string> names;
  for (const CheckpointFile& f : verified->manifest.files()) names.push_back(f.name());
  for (const std::string& name : names) {
    const std::string kind = FileKindOf(name);
    if (kind.empty()) continue;
    absl::StatusOr<SafetensorsFile> file = ParseListed(*verified, checkpoint_dir, name);
    if (!file.ok()) return file.status();
    (kind == "model" ? model_files : optimizer_files).push_back(*std::move(file));
  }
  size_t next_model = 0, next_optimizer = 0;
  for (const std::string& name : names) {
    const std::string kind = FileKindOf(name);
    if (kind == "model") models.emplace_back(JoinPath(checkpoint_dir, name), &model_files[next_model++]);
    if (kind == "optimizer") optimizers.emplace_back(JoinPath(checkpoint_dir, name), &optimizer_files[next_optimizer++]);
  }
  if (absl::Status s = ReadUnionOfTensors(models, layout, {{"", &contents.parameters}}, ""); !s.ok()) return s;
  if (absl::Status s = ReadUnionOfTensors(
          optimizers, layout, {{kExpAvgPrefix, &contents.exp_avg}, {kExpAvgSqPrefix, &contents.exp_avg_sq}},
          kOptimizerStepTensor);
      !s.ok()) {
    return s;
  }
  // Every part records the optimizer's step; they must agree.
  for (const auto& [path, optimizer] : optimizers) {
    absl::StatusOr<std::vector<double>> step = optimizer->Float64(kOptimizerStepTensor);
    if (!step.ok() || step->size() != 1 || !((*step)[0] >= 0) || (*step)[0] > double(int64_t{1} << 53) ||
        (*step)[0] != static_cast<double>(static_cast<int64_t>((*step)[0]))) {
      return Damaged(checkpoint_dir, absl::StrCat(path, ": \"", kOptimizerStepTensor, "\" is not one F64 natural number"));
    }
    const int64_t value = static_cast<int64_t>((*step)[0]);
    if (path != optimizers.front().first && value != contents.optimizer_step) {
      return Damaged(checkpoint_dir, absl::StrCat(path, ": optimizer step ", value, ", another part says ",
                                                  contents.optimizer_step));
    }
    contents.optimizer_step = value;
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
