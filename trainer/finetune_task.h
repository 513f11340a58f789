// The data and the evaluation of a fine-tuning run (TrainConfig.finetune): the task's spec,
// its train split as features for TaskBatchSource, and its dev split scored with the task's
// metrics (eval/).
//
// Evaluation runs every dev feature through the model in eval mode (no dropout), in
// batches padded to their longest example, and reports the mean loss and the task's
// metrics as GLUE names them: "accuracy", "matthews_corrcoef" (CoLA), "f1" (MRPC, QQP:
// positive class 1), "pearson" and "spearman" (regression). A run is "degenerate" when it
// predicts one class for every dev example (or one score, for regression); correlations
// are then undefined and reported as 0.
#ifndef CLOZE_TRAINER_FINETUNE_TASK_H_
#define CLOZE_TRAINER_FINETUNE_TASK_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "proto/train_config.pb.h"
#include "tasks/features.h"
#include "tasks/task_example.h"
#include "trainer/training_backend.h"

namespace cloze {

struct FinetuneTask {
  tasks::TaskSpec spec;
  std::unique_ptr<data::Tokenizer> tokenizer;
  std::vector<tasks::SequenceFeature> train;
  std::vector<tasks::SequenceFeature> dev;
  std::vector<tasks::SentenceExample> dev_examples;  // dev[i] is of dev_examples[i]
  std::string eval_split;

  bool regression() const { return spec.kind == tasks::TaskKind::kRegression; }
};

// The task's spec alone (GLUE by name; "generic": from the train file's labels), for the
// CLI to size the head. Errors as LoadFinetuneTask's.
absl::StatusOr<tasks::TaskSpec> FinetuneTaskSpec(const FinetuneConfig& config);

// Reads the train and eval splits (without tokenising): their example counts, to size the
// run before it starts. Errors as LoadFinetuneTask's.
struct FinetuneSplitSizes {
  int64_t train = 0, eval = 0;
};
absl::StatusOr<FinetuneSplitSizes> CountFinetuneExamples(const FinetuneConfig& config);

// Loads the tokenizer, reads the train and eval splits and featurises them at
// max_seq_length. Errors name the file (and line, field) at fault: an unknown task
// (InvalidArgument), a missing split (NotFound), a bad line; FailedPrecondition when the
// tokenizer's vocabulary size differs from `model_vocab_size`, naming both.
absl::StatusOr<FinetuneTask> LoadFinetuneTask(const FinetuneConfig& config, int model_vocab_size);

// One file in the run's task format, for prediction (cloze predict). A GLUE task's file
// must be named after one of the task's splits (dev.tsv, test.tsv, ...): the split decides
// its layout, as ReadGlueSplit reads it. A generic task's file has the run's columns; its
// split is the file name's stem, so a name starting with "test" may lack the label column.
// Guids are "<split>-<line>" as in the run's own predictions. Errors as the readers'.
absl::StatusOr<std::vector<tasks::SentenceExample>> ReadFinetuneFile(const FinetuneConfig& config,
                                                                     const tasks::TaskSpec& spec,
                                                                     const std::string& path);

struct TaskEvaluation {
  int64_t step = 0;
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics;  // in the task's order
  bool degenerate = false;
  std::vector<int> predicted_labels;     // classification, per dev example
  std::vector<double> predicted_scores;  // regression, per dev example
  std::vector<std::vector<float>> logits;  // per dev example

  // The first metric: what "best on dev" maximises.
  double primary() const { return metrics.empty() ? 0 : metrics.front().second; }
};

// The dev split through `model` (eval mode) in batches of `batch_size`.
absl::StatusOr<TaskEvaluation> EvaluateTask(TrainingBackend& model, const FinetuneTask& task, int batch_size,
                                            int64_t step);

// {"step": ..., "loss": ..., "<metric>": ..., "degenerate": ...} on one line.
std::string TaskEvaluationJson(const TaskEvaluation& evaluation);

// <run_dir>/predictions_dev.jsonl: one line per dev example (guid, line, label, prediction,
// logits), written atomically.
absl::Status WriteDevPredictions(const std::string& run_dir, const FinetuneTask& task,
                                 const TaskEvaluation& evaluation);

}  // namespace cloze

#endif  // CLOZE_TRAINER_FINETUNE_TASK_H_
