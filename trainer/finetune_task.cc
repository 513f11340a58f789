// The factory over the task families (trainer/finetune/) and what every task's evaluation
// shares once it is made: its JSON line and its files.
#include "trainer/finetune_task.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "trainer/finetune/dev_forward.h"
#include "trainer/finetune/task_families.h"
#include "util/atomic_file.h"

namespace cloze {
namespace {

absl::StatusOr<std::unique_ptr<data::Tokenizer>> LoadTaskTokenizer(const FinetuneConfig& c, int model_vocab_size) {
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(c.tokenizer());
  if (!tokenizer.ok()) return tokenizer.status();
  if ((*tokenizer)->vocab_size() != model_vocab_size) {
    return absl::FailedPreconditionError(absl::StrCat("the tokenizer ", c.tokenizer(), " has ", (*tokenizer)->vocab_size(),
                                                      " ids but the model's vocab_size is ", model_vocab_size));
  }
  return tokenizer;
}

// The family's task, reading and featurising `splits`.
absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadTask(const FinetuneConfig& c, int model_vocab_size,
                                                       finetune::TaskSplits splits) {
  if (!finetune::IsTaggingTask(c.task()) && !finetune::IsSpanTask(c.task())) {
    // An unknown task name is refused before the tokenizer is loaded.
    if (absl::Status s = FinetuneTaskSpec(c).status(); !s.ok()) return s;
  }
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = LoadTaskTokenizer(c, model_vocab_size);
  if (!tokenizer.ok()) return tokenizer.status();
  if (finetune::IsTaggingTask(c.task())) return finetune::LoadTaggingTask(c, *std::move(tokenizer), splits);
  if (finetune::IsSpanTask(c.task())) return finetune::LoadSpanTask(c, *std::move(tokenizer), splits);
  return finetune::LoadSentenceTask(c, *std::move(tokenizer), splits);
}

}  // namespace

absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadFinetuneTask(const FinetuneConfig& c, int model_vocab_size) {
  return LoadTask(c, model_vocab_size, finetune::TaskSplits::kTrainAndEval);
}

absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadFinetuneTaskForPrediction(const FinetuneConfig& c,
                                                                            int model_vocab_size) {
  return LoadTask(c, model_vocab_size, finetune::TaskSplits::kNone);
}

absl::StatusOr<FinetuneTaskSummary> SummarizeFinetuneTask(const FinetuneConfig& c, int model_vocab_size) {
  if (finetune::IsTaggingTask(c.task()) || finetune::IsSpanTask(c.task())) {
    absl::StatusOr<std::unique_ptr<FinetuneTask>> task = LoadFinetuneTask(c, model_vocab_size);
    if (!task.ok()) return task.status();
    FinetuneTaskSummary summary{.spec = (*task)->spec(), .head = (*task)->head(), .train_inputs = (*task)->train_size()};
    summary.task = *std::move(task);
    return summary;
  }
  // Sentence tasks: one input per example, so the files are read but not tokenised.
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(c);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<int64_t> train = finetune::CountSentenceTrainExamples(c);
  if (!train.ok()) return train.status();
  const int outputs = spec->kind == tasks::TaskKind::kRegression ? 1 : static_cast<int>(spec->labels.size());
  return FinetuneTaskSummary{.spec = *std::move(spec),
                             .head = {.kind = HeadKind::kSequenceClassification, .num_labels = outputs},
                             .train_inputs = *train};
}

std::string TaskEvaluationJson(const TaskEvaluation& e) {
  std::string line = absl::StrCat("{\"step\": ", e.step, ", \"loss\": ", finetune::JsonNumber(e.loss));
  for (const auto& [name, value] : e.metrics) absl::StrAppend(&line, ", \"", name, "\": ", finetune::JsonNumber(value));
  return absl::StrCat(line, ", \"degenerate\": ", e.degenerate ? "true" : "false", "}");
}

absl::Status WriteTaskPredictions(const std::string& run_dir,
                                  const std::vector<std::pair<std::string, std::string>>& files) {
  for (const auto& [name, text] : files) {
    const std::filesystem::path path = std::filesystem::path(run_dir) / name;
    std::error_code error;
    std::filesystem::create_directories(path.parent_path(), error);
    if (error) return absl::InternalError(absl::StrCat(path.parent_path().string(), ": cannot create: ", error.message()));
    if (absl::Status s = util::WriteTextFileAtomically(path.string(), text); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace cloze
