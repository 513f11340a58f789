// Writing checkpoint parts and committing checkpoints; see checkpoint_parts.h.
#include "checkpoint/checkpoint_parts.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "util/sha256.h"
#include "google/protobuf/text_format.h"
#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/safetensors.h"

namespace cloze {
namespace {

std::string PartFileName(const char* kind, const std::string& part_name) {
  return part_name.empty() ? absl::StrCat(kind, ".safetensors") : absl::StrCat(kind, "-", part_name, ".safetensors");
}

// The part's floats of tensor t (spans start at the part's first tensor).
std::span<const float> Slice(std::span<const float> buffer, const NamedTensor& t, int64_t base) {
  return buffer.subspan(t.offset - base, t.size);
}

// transformers refuses safetensors files without {"format": "pt"}.
std::string SerializeModel(const CheckpointPart& part, const ParameterLayout& layout) {
  SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  const int64_t base = layout.tensors[part.first_tensor].offset;
  for (int i = part.first_tensor; i < part.end_tensor; ++i) {
    const NamedTensor& t = layout.tensors[i];
    writer.AddFloat32(t.name, t.shape, Slice(part.parameters, t, base));
  }
  return writer.Serialize();
}

std::string SerializeOptimizer(const CheckpointPart& part, const ParameterLayout& layout) {
  SafetensorsWriter writer;
  writer.SetMetadata("format", "pt");
  const int64_t base = layout.tensors[part.first_tensor].offset;
  for (int i = part.first_tensor; i < part.end_tensor; ++i) {
    const NamedTensor& t = layout.tensors[i];
    writer.AddFloat32(absl::StrCat(kExpAvgPrefix, t.name), t.shape, Slice(part.exp_avg, t, base));
  }
  for (int i = part.first_tensor; i < part.end_tensor; ++i) {
    const NamedTensor& t = layout.tensors[i];
    writer.AddFloat32(absl::StrCat(kExpAvgSqPrefix, t.name), t.shape, Slice(part.exp_avg_sq, t, base));
  }
  const double step = static_cast<double>(part.optimizer_step);
  writer.AddFloat64(kOptimizerStepTensor, {}, std::span<const double>(&step, 1));
  return writer.Serialize();
}

absl::Status CheckPart(const CheckpointPart& part, const ParameterLayout& layout) {
  const std::string what = absl::StrCat("checkpoint part \"", part.part_name, "\" of step ", part.step);
  if (part.step < 0 || part.optimizer_step < 0 || part.optimizer_step > (int64_t{1} << 53)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": step ", part.step, " and optimizer step ",
                                                   part.optimizer_step, " must be natural numbers (below 2^53)"));
  }
  for (char c : part.part_name) {
    if (!(absl::ascii_islower(static_cast<unsigned char>(c)) || absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
          c == '-')) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": a part name is [a-z0-9-]*"));
    }
  }
  const int tensors = static_cast<int>(layout.tensors.size());
  if (part.first_tensor < 0 || part.first_tensor >= part.end_tensor || part.end_tensor > tensors) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": tensors [", part.first_tensor, ", ", part.end_tensor,
                                                   ") are not a non-empty range of the layout's ", tensors));
  }
  const NamedTensor& last = layout.tensors[part.end_tensor - 1];
  const int64_t floats = last.offset + last.size - layout.tensors[part.first_tensor].offset;
  const std::pair<const char*, size_t> buffers[] = {
      {"parameters", part.parameters.size()}, {"exp_avg", part.exp_avg.size()}, {"exp_avg_sq", part.exp_avg_sq.size()}};
  for (const auto& [name, size] : buffers) {
    if (static_cast<int64_t>(size) != floats) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": ", name, " holds ", size, " floats, its tensors ", floats));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<CheckpointFile> WriteSyncedFile(CheckpointFileSystem& fs, const std::string& dir, const std::string& name,
                                               const std::string& bytes) {
  const std::string path = JoinPath(dir, name);
  if (absl::Status s = fs.WriteFile(path, bytes); !s.ok()) return s;
  if (absl::Status s = fs.SyncFile(path); !s.ok()) return s;
  CheckpointFile file;
  file.set_name(name);
  file.set_bytes(static_cast<int64_t>(bytes.size()));
  file.set_sha256(util::Sha256Hex(bytes));
  return file;
}

}  // namespace

ParameterLayout SubLayout(const ParameterLayout& layout, int first_tensor, int end_tensor) {
  ParameterLayout sub;
  const int64_t base = layout.tensors[first_tensor].offset;
  for (int i = first_tensor; i < end_tensor; ++i) {
    NamedTensor t = layout.tensors[i];
    t.offset -= base;
    sub.total_size = t.offset + t.size;
    sub.tensors.push_back(std::move(t));
  }
  return sub;
}

absl::StatusOr<std::vector<CheckpointFile>> WriteCheckpointPart(const std::string& run_dir, const CheckpointPart& part,
                                                                const ParameterLayout& layout,
                                                                const CheckpointOptions& options) {
  if (absl::Status s = CheckPart(part, layout); !s.ok()) return s;
  CheckpointFileSystem& fs = FileSystemOf(options);
  const std::string checkpoints = JoinPath(run_dir, kCheckpointsDirName);
  const std::string partial = JoinPath(checkpoints, PartialCheckpointDirName(part.step));
  if (absl::Status s = fs.CreateDir(checkpoints); !s.ok()) return s;
  // checkpoints/ itself must survive a power loss before anything inside it can.
  if (absl::Status s = fs.SyncDir(run_dir); !s.ok()) return s;
  if (absl::Status s = fs.CreateDir(partial); !s.ok()) return s;
  const auto remove_part = [&] {  // best effort: the write's own error is what matters
    for (const char* kind : {"model", "optimizer"}) {
      (void)fs.RemoveAll(JoinPath(partial, PartFileName(kind, part.part_name)));
    }
  };
  std::vector<CheckpointFile> files;
  // Each serialized file is dropped once written, so at most one is in memory at a time.
  for (const char* kind : {"model", "optimizer"}) {
    const std::string bytes = kind == std::string_view("model") ? SerializeModel(part, layout)
                                                                : SerializeOptimizer(part, layout);
    absl::StatusOr<CheckpointFile> file = WriteSyncedFile(fs, partial, PartFileName(kind, part.part_name), bytes);
    if (!file.ok()) {
      remove_part();
      return file.status();
    }
    files.push_back(*std::move(file));
  }
  if (absl::Status s = fs.SyncDir(partial); !s.ok()) {
    remove_part();
    return s;
  }
  return files;
}

absl::StatusOr<std::string> CommitCheckpoint(const std::string& run_dir, CheckpointManifest manifest,
                                             const CheckpointOptions& options) {
  return PublishPartialCheckpoint(run_dir, std::move(manifest), /*verify_files=*/true, options);
}

absl::StatusOr<std::string> PublishPartialCheckpoint(const std::string& run_dir, CheckpointManifest manifest,
                                                     bool verify_files, const CheckpointOptions& options) {
  CheckpointFileSystem& fs = FileSystemOf(options);
  const std::string checkpoints = JoinPath(run_dir, kCheckpointsDirName);
  const std::string final_dir = JoinPath(checkpoints, CheckpointDirName(manifest.step()));
  const std::string partial = JoinPath(checkpoints, PartialCheckpointDirName(manifest.step()));
  if (manifest.step() < 0) return absl::InvalidArgumentError(absl::StrCat("checkpoint step ", manifest.step()));
  absl::StatusOr<std::vector<int64_t>> existing = ListCheckpointSteps(run_dir, options);
  if (!existing.ok()) return existing.status();
  if (std::find(existing->begin(), existing->end(), manifest.step()) != existing->end()) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, ": a checkpoint of step ", manifest.step(),
                                                 " exists already and is never replaced"));
  }
  // The parts were written by other processes: check each is what its writer reported
  // before publishing a manifest that vouches for it.
  for (const CheckpointFile& file : manifest.files()) {
    if (!verify_files) break;
    if (file.name().empty() || file.name().find('/') != std::string::npos || file.name().starts_with(".")) {
      return absl::InvalidArgumentError(absl::StrCat(partial, ": a part lists the file name \"", file.name(), "\""));
    }
    absl::StatusOr<std::string> bytes = fs.ReadFile(JoinPath(partial, file.name()));
    if (!bytes.ok()) {
      return absl::DataLossError(absl::StrCat(JoinPath(partial, file.name()), ": ", bytes.status().message()));
    }
    if (static_cast<int64_t>(bytes->size()) != file.bytes() || util::Sha256Hex(*bytes) != file.sha256()) {
      return absl::DataLossError(absl::StrCat(JoinPath(partial, file.name()), ": ", bytes->size(),
                                              " bytes on disk do not match the part's report (", file.bytes(),
                                              " bytes and its SHA-256)"));
    }
  }
  manifest.set_format_version(kCheckpointFormatVersion);
  manifest.set_created_at(absl::FormatTime(absl::RFC3339_sec, absl::Now(), absl::UTCTimeZone()));
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(manifest, &text)) {
    return absl::InternalError(absl::StrCat(partial, ": cannot print the manifest"));
  }
  const std::string manifest_path = JoinPath(partial, kManifestFileName);
  if (absl::Status s = fs.WriteFile(manifest_path, text); !s.ok()) return s;
  if (absl::Status s = fs.SyncFile(manifest_path); !s.ok()) return s;
  // (WriteCheckpoint's own part was synced by WriteCheckpointPart.)
  if (verify_files) {
    if (absl::Status s = fs.SyncDir(partial); !s.ok()) return s;
  }
  if (absl::Status s = fs.RenameDir(partial, final_dir); !s.ok()) return s;
  // The rename is durable only once the directory holding both names is synced.
  if (absl::Status s = fs.SyncDir(checkpoints); !s.ok()) return s;
  return final_dir;
}

}  // namespace cloze
