// cloze predict: a fine-tuned run (a `cloze finetune` run folder) on a file in its task's
// format. The run's task is made from its train_config.pb.txt as `cloze finetune` makes it,
// without its splits (LoadFinetuneTaskForPrediction), the run's weights go into a CPU
// backend, and the task's own PredictFile predicts the file and renders it as the run's
// predictions files: one JSON line per example (to --output, or stdout), and the files the
// task writes beside them (SQuAD: predictions.json, nbest_predictions.json) next to --output.
// Every task family works here through that one interface.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/declare.h"
#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "checkpoint/checkpoint.h"
#include "cli/command_error.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "trainer/finetune_task.h"
#include "trainer/train_config.h"
#include "trainer/training_backend.h"
#include "util/atomic_file.h"

ABSL_DECLARE_FLAG(std::vector<std::string>, input);
ABSL_DECLARE_FLAG(std::string, output);
ABSL_DECLARE_FLAG(std::string, tokenizer);
ABSL_DECLARE_FLAG(int, batch_size);

ABSL_FLAG(std::string, checkpoint, "",
          "cloze predict: the checkpoint folder whose weights predict (e.g. RUN/checkpoints/step-000000016); "
          "default: the run's newest valid checkpoint");

namespace cloze::cli {
namespace {

namespace fs = std::filesystem;

constexpr char kUsage[] =
    "usage: cloze predict --run_dir=FINETUNE_RUN --input=FILE [--output=FILE.jsonl --checkpoint=DIR "
    "--batch_size=N (default: the run's) --tokenizer=SPEC (default: the run's)]\n"
    "  FILE in the run's task format: GLUE TSV named after a split (dev.tsv, test.tsv), the generic task's "
    "TSV/JSONL, CoNLL-U (pos), SQuAD JSON (squad, squad_v2); labels, tags and answers optional\n";

constexpr char kCommand[] = "cloze predict";

// Bad input (2) or a failure (1).
int ExitStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return 2;
    default:
      return 1;
  }
}

// A fine-tuning run's config, from its train_config.pb.txt.
absl::StatusOr<TrainConfig> ReadRunConfig(const std::string& run_dir) {
  const std::string path = run_dir + "/train_config.pb.txt";
  if (!fs::exists(path)) {
    return absl::NotFoundError(absl::StrCat(run_dir, ": not a run folder (no train_config.pb.txt)"));
  }
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(path);
  if (!config.ok()) return config.status();
  if (!config->has_finetune()) {
    return absl::FailedPreconditionError(
        absl::StrCat(run_dir, " is a pretraining run, not a fine-tuned one: use cloze fill-mask"));
  }
  return config;
}

struct LoadedModel {
  std::unique_ptr<TrainingBackend> backend;
  std::string checkpoint_dir;  // where the weights came from
};

// The run's model on the CPU (no optimizer) with the weights of `checkpoint_dir`, or of the
// run's newest valid checkpoint when it is empty (damaged ones skipped with a warning).
absl::StatusOr<LoadedModel> LoadModel(const TrainConfig& config, const std::string& run_dir,
                                      const std::string& checkpoint_dir) {
  absl::StatusOr<std::unique_ptr<TrainingBackend>> backend = MakeCpuBackend(config, /*with_optimizer=*/false);
  if (!backend.ok()) return backend.status();
  const ParameterLayout& layout = (*backend)->layout();
  LoadedCheckpoint loaded;
  if (!checkpoint_dir.empty()) {
    absl::StatusOr<CheckpointContents> contents = LoadCheckpoint(checkpoint_dir, layout);
    if (!contents.ok()) return contents.status();
    loaded = {.path = checkpoint_dir, .contents = *std::move(contents)};
  } else {
    absl::StatusOr<LoadedCheckpoint> latest = LoadLatestValidCheckpoint(run_dir, layout);
    if (absl::IsNotFound(latest.status())) {
      return absl::NotFoundError(absl::StrCat(run_dir, ": no valid checkpoint to predict with"));
    }
    if (!latest.ok()) return latest.status();
    loaded = *std::move(latest);
  }
  if (absl::Status s = (*backend)->RestoreState(loaded.contents); !s.ok()) return s;
  return LoadedModel{.backend = *std::move(backend), .checkpoint_dir = loaded.path};
}

// The lines to `output` (stdout when empty) and the task's other files next to it, each
// written whole; nothing is written when a file would overwrite `output`.
absl::Status WritePredictions(const FilePredictions& predictions, const std::string& output) {
  if (output.empty()) {
    std::fputs(predictions.jsonl.c_str(), stdout);
    for (const auto& [name, text] : predictions.files) {
      std::fprintf(stderr, "cloze predict: %s not written: it goes next to --output\n", name.c_str());
    }
    return absl::OkStatus();
  }
  const fs::path folder = fs::path(output).has_parent_path() ? fs::path(output).parent_path() : fs::path(".");
  for (const auto& [name, text] : predictions.files) {
    if ((folder / name).lexically_normal() == fs::path(output).lexically_normal()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--output=", output, ": the task writes its ", name, " there; choose another name"));
    }
  }
  if (absl::Status s = WriteTaskPredictions(folder.string(), predictions.files); !s.ok()) return s;
  if (absl::Status s = util::WriteTextFileAtomically(output, predictions.jsonl); !s.ok()) return s;
  for (const auto& [name, text] : predictions.files) {
    std::fprintf(stderr, "cloze predict: wrote %s\n", (folder / name).string().c_str());
  }
  std::fprintf(stderr, "cloze predict: wrote %s\n", output.c_str());
  return absl::OkStatus();
}

}  // namespace

int RunPredictCommand(const std::vector<std::string>& args) {
  const std::string run_dir = absl::GetFlag(FLAGS_run_dir);
  const std::vector<std::string> input = absl::GetFlag(FLAGS_input);
  if (!args.empty() || run_dir.empty() || input.size() != 1) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  absl::StatusOr<TrainConfig> config = ReadRunConfig(run_dir);
  if (!config.ok()) return Fail(kCommand, ExitStatus(config.status()), config.status());
  const int batch_size = OrCommandDefault(absl::GetFlag(FLAGS_batch_size), config->batch_size());
  if (batch_size < 1) {
    return Fail(kCommand, 2,
        absl::InvalidArgumentError(absl::StrCat("--batch_size: must be positive, got ", batch_size)));
  }
  FinetuneConfig finetune = config->finetune();
  if (!absl::GetFlag(FLAGS_tokenizer).empty()) finetune.set_tokenizer(absl::GetFlag(FLAGS_tokenizer));
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task =
      LoadFinetuneTaskForPrediction(finetune, config->model().vocab_size());
  if (!task.ok()) return Fail(kCommand, ExitStatus(task.status()), task.status());
  absl::StatusOr<LoadedModel> model = LoadModel(*config, run_dir, absl::GetFlag(FLAGS_checkpoint));
  if (!model.ok()) return Fail(kCommand, ExitStatus(model.status()), model.status());
  absl::StatusOr<FilePredictions> predictions = (*task)->PredictFile(*model->backend, input[0], batch_size);
  if (!predictions.ok()) return Fail(kCommand, ExitStatus(predictions.status()), predictions.status());
  std::fprintf(stderr, "cloze predict: %s (%s) on %lld examples of %s\n", model->checkpoint_dir.c_str(),
               finetune.task().c_str(), static_cast<long long>(predictions->examples), input[0].c_str());
  if (absl::Status s = WritePredictions(*predictions, absl::GetFlag(FLAGS_output)); !s.ok()) {
    return Fail(kCommand, ExitStatus(s), s);
  }
  return 0;
}

}  // namespace cloze::cli
