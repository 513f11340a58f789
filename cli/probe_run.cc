#include "cli/probe_run.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "checkpoint/checkpoint.h"
#include "cli/checkpoint_model.h"

namespace cloze::cli {
namespace {

namespace fs = std::filesystem;

std::string Absolute(const std::string& path) { return fs::weakly_canonical(fs::absolute(path)).string(); }

// The probes of `wanted` that `done` lacks for `checkpoint`.
std::vector<std::string> Pending(const std::vector<std::string>& wanted, const std::string& checkpoint,
                                 const std::set<std::pair<std::string, std::string>>& done) {
  std::vector<std::string> pending;
  for (const std::string& probe : wanted) {
    if (!done.contains({checkpoint, probe})) pending.push_back(probe);
  }
  return pending;
}

}  // namespace

absl::StatusOr<std::vector<CheckpointToProbe>> CheckpointsToProbe(const std::vector<std::string>& paths, int every) {
  std::vector<CheckpointToProbe> out;
  for (const std::string& path : paths) {
    const std::string folder = Absolute(path);
    if (fs::exists(absl::StrCat(folder, "/", kManifestFileName))) {
      const std::optional<int64_t> step = ParseCheckpointDirName(fs::path(folder).filename().string());
      out.push_back({.step = step.value_or(-1), .path = folder});
      continue;
    }
    if (!fs::is_directory(absl::StrCat(folder, "/", kCheckpointsDirName))) {
      return absl::NotFoundError(absl::StrCat(path, ": neither a checkpoint folder (with ", kManifestFileName,
                                              ") nor a run folder (with ", kCheckpointsDirName, "/)"));
    }
    absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(folder);
    if (!steps.ok()) return steps.status();
    for (size_t i = 0; i < steps->size(); ++i) {
      if (every > 1 && i % every != 0) continue;
      out.push_back({.step = (*steps)[i],
                     .path = absl::StrCat(folder, "/", kCheckpointsDirName, "/", CheckpointDirName((*steps)[i]))});
    }
  }
  return out;
}

absl::StatusOr<ProbeRunSummary> ProbeCheckpoints(const std::vector<CheckpointToProbe>& checkpoints,
                                                 const data::Tokenizer& tokenizer, const probe::ProbeData& data,
                                                 const probe::ProbeSuiteOptions& options,
                                                 const std::string& probes_path,
                                                 const std::function<void(const std::string&)>& log,
                                                 const std::function<void(const CheckpointToProbe&)>& before_load) {
  absl::StatusOr<std::set<std::pair<std::string, std::string>>> done = probe::ReadDoneProbes(probes_path);
  if (!done.ok()) return done.status();
  ProbeRunSummary summary;
  for (const CheckpointToProbe& checkpoint : checkpoints) {
    std::vector<std::string> pending = Pending(options.probes, checkpoint.path, *done);
    if (pending.empty()) {
      ++summary.already_done;
      continue;
    }
    if (before_load) before_load(checkpoint);
    absl::StatusOr<CheckpointModel> loaded = LoadCheckpointModel(checkpoint.path, options.precision);
    if (!loaded.ok()) {
      // Gone (pruned, deleted) or damaged (a file missing or cut short as it was deleted):
      // nothing to probe, and no reason to stop probing the others.
      if (!fs::exists(checkpoint.path) || absl::IsNotFound(loaded.status()) || absl::IsDataLoss(loaded.status())) {
        log(absl::StrCat("skipped ", checkpoint.path, ": ", loaded.status().message()));
        ++summary.skipped;
        continue;
      }
      return loaded.status();
    }
    const ModelConfig& config = loaded->model.config();
    if (config.vocab_size() != tokenizer.vocab_size()) {
      return absl::FailedPreconditionError(absl::StrCat("the tokenizer has ", tokenizer.vocab_size(),
                                                        " ids but the checkpoint ", checkpoint.path,
                                                        " has vocab_size ", config.vocab_size()));
    }
    if (config.max_position_embeddings() < options.max_seq_length) {
      return absl::FailedPreconditionError(absl::StrCat(checkpoint.path, " takes at most ",
                                                        config.max_position_embeddings(),
                                                        " tokens: lower --max_seq_length (now ",
                                                        options.max_seq_length, ")"));
    }
    if (loaded->manifest.train_config().has_finetune()) {
      std::erase_if(pending, probe::IsHeadProbe);
      log(absl::StrCat(checkpoint.path, " is a fine-tuning checkpoint (no masked-language-model head): no fill-in probes"));
    }
    log(absl::StrCat("probing ", checkpoint.path, ": ", absl::StrJoin(pending, ", ")));
    absl::Status status = probe::RunProbes(
        loaded->model, checkpoint.step, checkpoint.path, pending, data, options,
        [&](const std::vector<probe::ProbeRecord>& records) {
          if (absl::Status s = probe::AppendRecords(probes_path, records); !s.ok()) return s;
          done->emplace(checkpoint.path, records.front().probe);
          log(absl::StrCat("  ", records.front().probe, ": ", records.back().class_name, " ",
                           records.back().accuracy, " (", records.size(), " records, ", records.front().seconds,
                           " s)"));
          return absl::OkStatus();
        });
    if (!status.ok()) return absl::Status(status.code(), absl::StrCat(checkpoint.path, ": ", status.message()));
    ++summary.probed;
  }
  return summary;
}

}  // namespace cloze::cli
