// Naming, listing and writing checkpoints; loading is in checkpoint_load.cc.
#include "checkpoint/checkpoint.h"

#include <algorithm>
#include <span>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "util/sha256.h"
#include "google/protobuf/text_format.h"
#include "checkpoint/checkpoint_internal.h"
#include "checkpoint/checkpoint_parts.h"
#include "checkpoint/safetensors.h"

namespace cloze {
namespace {

absl::Status CheckContents(const CheckpointContents& contents, const ParameterLayout& layout) {
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

  absl::StatusOr<std::vector<int64_t>> existing = ListCheckpointSteps(run_dir, options);
  if (!existing.ok()) return existing.status();
  if (std::find(existing->begin(), existing->end(), contents.step) != existing->end()) {
    return absl::AlreadyExistsError(absl::StrCat(final_dir, ": a checkpoint of step ", contents.step,
                                                 " exists already and is never replaced"));
  }
  if (absl::Status s = fs.RemoveAll(partial); !s.ok()) return s;
  const CheckpointPart part{.step = contents.step,
                            .optimizer_step = contents.optimizer_step,
                            .first_tensor = 0,
                            .end_tensor = static_cast<int>(layout.tensors.size()),
                            .parameters = contents.parameters,
                            .exp_avg = contents.exp_avg,
                            .exp_avg_sq = contents.exp_avg_sq};
  absl::StatusOr<std::vector<CheckpointFile>> files = WriteCheckpointPart(run_dir, part, layout, options);
  CheckpointManifest manifest = contents.manifest;
  manifest.set_step(contents.step);
  manifest.clear_files();
  absl::StatusOr<std::string> published = absl::UnknownError("unset");
  if (files.ok()) {
    for (CheckpointFile& file : *files) *manifest.add_files() = std::move(file);
    published = PublishPartialCheckpoint(run_dir, std::move(manifest), /*verify_files=*/false, options);
  } else {
    published = files.status();
  }
  // On failure, best effort: PruneCheckpoints deletes what is left.
  if (!published.ok()) (void)fs.RemoveAll(partial);
  return published;
}

}  // namespace cloze
