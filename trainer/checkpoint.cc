// Naming, listing and writing checkpoints; loading is in checkpoint_load.cc.
#include "trainer/checkpoint.h"

#include <algorithm>
#include <span>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "data/sha256.h"
#include "google/protobuf/text_format.h"
#include "trainer/checkpoint_internal.h"
#include "trainer/safetensors.h"

namespace cloze {
namespace {

// model.safetensors: the parameters under their Hugging Face names. transformers refuses
// safetensors files without {"format": "pt"}.
std::string SerializeModel(const CheckpointContents& contents, const ParameterLayout& layout) {
  SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  for (const NamedTensor& t : layout.tensors) {
    writer.AddFloat32(t.name, t.shape, std::span<const float>(contents.parameters).subspan(t.offset, t.size));
  }
  return writer.Serialize();
}

std::string SerializeOptimizer(const CheckpointContents& contents, const ParameterLayout& layout) {
  SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  for (const NamedTensor& t : layout.tensors) {
    writer.AddFloat32(absl::StrCat(kExpAvgPrefix, t.name), t.shape,
                      std::span<const float>(contents.exp_avg).subspan(t.offset, t.size));
  }
  for (const NamedTensor& t : layout.tensors) {
    writer.AddFloat32(absl::StrCat(kExpAvgSqPrefix, t.name), t.shape,
                      std::span<const float>(contents.exp_avg_sq).subspan(t.offset, t.size));
  }
  const double step = static_cast<double>(contents.optimizer_step);
  writer.AddFloat64(kOptimizerStepTensor, {}, std::span<const double>(&step, 1));
  return writer.Serialize();
}

absl::Status CheckContents(const CheckpointContents& contents, const ParameterLayout& layout) {
  if (contents.step < 0 || contents.optimizer_step < 0 || contents.optimizer_step > (int64_t{1} << 53)) {
    return absl::InvalidArgumentError(absl::StrCat("checkpoint: step ", contents.step, " and optimizer step ",
                                                   contents.optimizer_step, " must be natural numbers (below 2^53)"));
  }
  const std::pair<const char*, const std::vector<float>*> buffers[] = {
      {"parameters", &contents.parameters}, {"exp_avg", &contents.exp_avg}, {"exp_avg_sq", &contents.exp_avg_sq}};
  for (const auto& [name, buffer] : buffers) {
    if (static_cast<int64_t>(buffer->size()) != layout.total_size) {
      return absl::InvalidArgumentError(absl::StrCat("checkpoint of step ", contents.step, ": ", name, " holds ",
                                                     buffer->size(), " floats, the layout ", layout.total_size));
    }
  }
  return absl::OkStatus();
}

// Writes one file of the partial directory, syncs it and records it in the manifest.
absl::Status WriteListedFile(CheckpointFileSystem& fs, const std::string& dir, const std::string& name,
                             const std::string& bytes, CheckpointManifest& manifest) {
  const std::string path = JoinPath(dir, name);
  if (absl::Status s = fs.WriteFile(path, bytes); !s.ok()) return s;
  if (absl::Status s = fs.SyncFile(path); !s.ok()) return s;
  CheckpointFile* file = manifest.add_files();
  file->set_name(name);
  file->set_bytes(static_cast<int64_t>(bytes.size()));
  file->set_sha256(data::Sha256Hex(bytes));
  return absl::OkStatus();
}

// Fills the partial directory `partial` (which exists and is empty) and syncs it.
absl::Status WritePartial(CheckpointFileSystem& fs, const std::string& partial, const CheckpointContents& contents,
                          const ParameterLayout& layout) {
  CheckpointManifest manifest = contents.manifest;
  manifest.set_format_version(kCheckpointFormatVersion);
  manifest.set_step(contents.step);
  manifest.clear_files();
  manifest.set_created_at(absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()));
  // Each serialized file is dropped once written, so at most one is in memory at a time.
  if (absl::Status s = WriteListedFile(fs, partial, kModelFileName, SerializeModel(contents, layout), manifest);
      !s.ok()) {
    return s;
  }
  if (absl::Status s =
          WriteListedFile(fs, partial, kOptimizerFileName, SerializeOptimizer(contents, layout), manifest);
      !s.ok()) {
    return s;
  }
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(manifest, &text)) {
    return absl::InternalError(absl::StrCat(partial, ": cannot print the manifest"));
  }
  const std::string manifest_path = JoinPath(partial, kManifestFileName);
  if (absl::Status s = fs.WriteFile(manifest_path, text); !s.ok()) return s;
  if (absl::Status s = fs.SyncFile(manifest_path); !s.ok()) return s;
  return fs.SyncDir(partial);
}

}  // namespace

std::string CheckpointDirName(int64_t step) { return absl::StrFormat("step-%09d", step); }

std::string PartialCheckpointDirName(int64_t step) { return absl::StrCat(".", CheckpointDirName(step), ".partial"); }

std::optional<int64_t> ParseCheckpointDirName(std::string_view name) {
  constexpr std::string_view kPrefix = "step-";
  if (!name.starts_with(kPrefix)) return std::nullopt;
  const std::string digits(name.substr(kPrefix.size()));
  if (digits.size() < 9 || digits.size() > 18) return std::nullopt;
  int64_t step = 0;
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
    step = step * 10 + (c - '0');
  }
  // One spelling per step: "step-0000000001" is not the checkpoint of step 1.
  if (CheckpointDirName(step) != name) return std::nullopt;
  return step;
}

absl::StatusOr<std::vector<int64_t>> ListCheckpointSteps(const std::string& run_dir,
                                                         const CheckpointOptions& options) {
  absl::StatusOr<std::vector<std::string>> names =
      FileSystemOf(options).ListDir(JoinPath(run_dir, kCheckpointsDirName));
  if (absl::IsNotFound(names.status())) return std::vector<int64_t>{};
  if (!names.ok()) return names.status();
  std::vector<int64_t> steps;
  for (const std::string& name : *names) {
    if (std::optional<int64_t> step = ParseCheckpointDirName(name)) steps.push_back(*step);
  }
  std::sort(steps.begin(), steps.end());
  return steps;
}

absl::StatusOr<std::string> WriteCheckpoint(const std::string& run_dir, const CheckpointContents& contents,
                                            const ParameterLayout& layout, const CheckpointOptions& options) {
  if (absl::Status s = CheckContents(contents, layout); !s.ok()) return s;
  CheckpointFileSystem& fs = FileSystemOf(options);
  const std::string checkpoints = JoinPath(run_dir, kCheckpointsDirName);
  const std::string final_dir = JoinPath(checkpoints, CheckpointDirName(contents.step));
  const std::string partial = JoinPath(checkpoints, PartialCheckpointDirName(contents.step));

  if (absl::Status s = fs.CreateDir(checkpoints); !s.ok()) return s;
  // checkpoints/ itself must survive a power loss before anything inside it can.
  if (absl::Status s = fs.SyncDir(run_dir); !s.ok()) return s;
  absl::StatusOr<std::vector<int64_t>> existing = ListCheckpointSteps(run_dir, options);
  if (!existing.ok()) return existing.status();
  if (std::find(existing->begin(), existing->end(), contents.step) != existing->end()) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, ": a checkpoint of step ", contents.step,
                                                 " exists already and is never replaced"));
  }
  if (absl::Status s = fs.RemoveAll(partial); !s.ok()) return s;
  if (absl::Status s = fs.CreateDir(partial); !s.ok()) return s;
  if (absl::Status s = WritePartial(fs, partial, contents, layout); !s.ok()) {
    (void)fs.RemoveAll(partial);  // best effort: PruneCheckpoints deletes what is left
    return s;
  }
  if (absl::Status s = fs.RenameDir(partial, final_dir); !s.ok()) {
    (void)fs.RemoveAll(partial);
    return s;
  }
  // The rename is durable only once the directory holding both names is synced.
  if (absl::Status s = fs.SyncDir(checkpoints); !s.ok()) return s;
  return final_dir;
}

}  // namespace cloze
