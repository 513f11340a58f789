// The task of a fine-tuning run (TrainConfig.finetune): its spec and head, its train split as
// model inputs for TaskBatchSource, and its dev split scored with the task's metrics
// (eval/). One implementation per task family, each in one file of trainer/finetune/:
//   sentence  GLUE by name, or "generic" (the user's TSV / JSON Lines): the sequence-
//             classification head; metrics as GLUE names them: "accuracy",
//             "matthews_corrcoef" (CoLA), "f1" (MRPC, QQP: positive class 1), "pearson" and
//             "spearman" (regression). MNLI is scored on dev_matched and dev_mismatched
//             (metrics "accuracy" and "accuracy_mismatched") unless an eval split is named.
//             Predictions: predictions_<split>.jsonl, one line per example (guid, line,
//             label, prediction, logits); at the end of the run the GLUE test splits present
//             are predicted too (PredictUnlabelled). Each line also has the example's
//             index in its file and, for classification, the label probabilities (softmax).
//             PredictFile: a GLUE task's file is named after one of the task's splits
//             (dev.tsv, test.tsv, ...), whose layout it has (ReadGlueSplit); a generic
//             task's file has the run's columns, its split is the file name's stem, and a
//             name starting with "test" may lack the label column. Guids "<split>-<line>".
//   tagging   "pos": a CoNLL-U treebank, UPOS (UniversalPosTags) or XPOS (the tags of the
//             train and eval splits: a dev tag unseen in training is a miss, not an error);
//             the token-classification head; "accuracy" over words, each word's tag
//             read at its first sub-token. Predictions: predictions_<split>.jsonl, one line
//             per sentence (id, line, words, tags, predictions).
//             PredictFile: a CoNLL-U file; a sentence whose tags are all "_" (CoNLL-U's
//             unspecified) is untagged, and its line has no "tags".
//   span      "squad" (v1.1) and "squad_v2": SQuAD-format JSON; the span-extraction head over
//             windows of the context; "f1" then "exact_match" (percentages, as the official
//             scripts), F1 first, so that it is what "best on dev" maximises (the less noisy
//             of the two, and SQuAD's headline number). Predictions: predictions.json
//             ({id: text}, the official format), nbest_predictions.json and, v2,
//             null_odds.json. PredictFile: a SQuAD file whose questions may lack answers;
//             its JSON lines are one per question (id, question, answers when present,
//             prediction; v2: null_score_diff), the official files beside them.
//
// Evaluation runs every dev input through the model in eval mode (no dropout), in batches
// padded to their longest input, and reports the mean loss (the mean of the head's per-term
// mean losses: span's start and end) and the task's metrics. A run is "degenerate" when its
// predictions carry no information: one class for every dev example (or one score, for
// regression); one tag for every dev word (tagging); the same answer text for every question,
// "" included (span). Correlations are then undefined and reported as 0.
#ifndef CLOZE_TRAINER_FINETUNE_TASK_H_
#define CLOZE_TRAINER_FINETUNE_TASK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "model/head_spec.h"
#include "proto/train_config.pb.h"
#include "tasks/read_options.h"
#include "tasks/task_example.h"
#include "trainer/model_input.h"
#include "trainer/training_backend.h"

namespace cloze {

struct TaskEvaluation {
  int64_t step = 0;
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics;  // in the task's order
  bool degenerate = false;
  // The task's prediction files of this evaluation: (name in the run directory, contents).
  // Rendered with the evaluation, so that writing them is the same for every task.
  std::vector<std::pair<std::string, std::string>> prediction_files;

  // The first metric: what "best on dev" maximises.
  double primary() const { return metrics.empty() ? 0 : metrics.front().second; }
};

// One file's predictions (FinetuneTask::PredictFile).
struct FilePredictions {
  int64_t examples = 0;  // what the file held: examples (sentence), sentences (tagging), questions (span)
  std::string jsonl;     // one JSON line each, as the task's predictions_<split>.jsonl lines
  // What the task writes beside them, (file name, contents): span's predictions.json,
  // nbest_predictions.json and (v2) null_odds.json; none for the other families.
  std::vector<std::pair<std::string, std::string>> files;
};

class FinetuneTask {
 public:
  virtual ~FinetuneTask() = default;

  const tasks::TaskSpec& spec() const { return spec_; }
  const HeadSpec& head() const { return head_; }
  const std::string& eval_split() const { return eval_split_; }
  const data::Tokenizer& tokenizer() const { return *tokenizer_; }
  const BatchLayout& batch_layout() const { return batch_layout_; }
  // Model inputs of the train split (after TakeTrainInputs: still their count).
  int64_t train_size() const { return train_size_; }
  // The train inputs, handed over to the batch source (they can be large: SQuAD's windows);
  // empty afterwards.
  std::vector<ModelInput> TakeTrainInputs() { return std::move(train_); }
  // What reading the task's files saw: records read, and those skipped
  // (FinetuneConfig.skip_bad_lines).
  const tasks::ReadStats& read_stats() const { return read_stats_; }
  void AddReadStats(const tasks::ReadStats& stats) { read_stats_.Add(stats); }

  // The eval split through `model` (eval mode) in batches of `batch_size`: loss, metrics,
  // the degenerate flag and the prediction files. Errors: the model's, or InvalidArgument
  // when its logits do not fit the inputs.
  virtual absl::StatusOr<TaskEvaluation> Evaluate(TrainingBackend& model, int batch_size, int64_t step) const = 0;

  // The final model's predictions of the task's unlabelled splits, as files (name in the
  // run directory, contents): GLUE's test splits give predictions_<split>.jsonl and the
  // submission file glue_submission/<Task>.tsv (tasks/glue_submission.h). None by default.
  virtual absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PredictUnlabelled(TrainingBackend& model,
                                                                                             int batch_size) const {
    return std::vector<std::pair<std::string, std::string>>{};
  }

  // The file at `path`, in the task's format, through `model` (eval mode) in batches of
  // `batch_size`, rendered as the task renders its dev predictions: a labelled dev file
  // gives the lines of predictions_<split>.jsonl (span: the same predictions.json). Gold
  // labels, tags and answers are optional; when present they are echoed, never used. Bad
  // records are errors whatever FinetuneConfig.skip_bad_lines says, so that every example
  // of the file is predicted. Errors: the reader's (NotFound; InvalidArgument naming the file
  // and line, or question and field), the featuriser's, the model's.
  virtual absl::StatusOr<FilePredictions> PredictFile(TrainingBackend& model, const std::string& path,
                                                      int batch_size) const = 0;

 protected:
  FinetuneTask() = default;

  tasks::TaskSpec spec_;
  HeadSpec head_;
  std::string eval_split_;
  std::unique_ptr<data::Tokenizer> tokenizer_;
  BatchLayout batch_layout_;
  std::vector<ModelInput> train_;
  int64_t train_size_ = 0;
  tasks::ReadStats read_stats_;
};

// The task `config.task` names: a GLUE name or "generic" (sentence), "pos" (tagging),
// "squad" or "squad_v2" (span). Loads the tokenizer, reads the train and eval splits and
// featurises them at max_seq_length. Errors name the file (and line, field) at fault: an
// unknown task or flag value (InvalidArgument), a missing split (NotFound), a bad line or
// record (InvalidArgument); FailedPrecondition when the tokenizer's vocabulary size differs
// from `model_vocab_size`, naming both.
absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadFinetuneTask(const FinetuneConfig& config, int model_vocab_size);

// The task as LoadFinetuneTask makes it but without its splits, for PredictFile (cloze
// predict): its spec, head, tokenizer and what reading and featurising a file takes. Reads
// only what the spec depends on: a generic task's train file (its labels, unless
// config.labels names them), and for XPOS tagging the tags of the train and eval splits.
// train_size() is 0, Evaluate has no dev inputs and PredictUnlabelled predicts nothing.
// Errors as LoadFinetuneTask's.
absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadFinetuneTaskForPrediction(const FinetuneConfig& config,
                                                                            int model_vocab_size);

// What the CLI needs to size a run before it starts: the spec, the head and the number of
// train inputs (sentence tasks: examples; tagging and span: the featurised windows, so the
// task is loaded for those, and handed over in `task` for the run to use rather than load
// and tokenise it again). Errors as LoadFinetuneTask's.
struct FinetuneTaskSummary {
  tasks::TaskSpec spec;
  HeadSpec head;
  int64_t train_inputs = 0;
  std::unique_ptr<FinetuneTask> task;  // null for sentence tasks (files read, not tokenised)
};
absl::StatusOr<FinetuneTaskSummary> SummarizeFinetuneTask(const FinetuneConfig& config, int model_vocab_size);

// The sentence tasks' spec alone (GLUE by name; "generic": from the train file's labels).
// InvalidArgument for any other task.
absl::StatusOr<tasks::TaskSpec> FinetuneTaskSpec(const FinetuneConfig& config);

// {"step": ..., "loss": ..., "<metric>": ..., "degenerate": ...} on one line.
std::string TaskEvaluationJson(const TaskEvaluation& evaluation);

// Prediction files (name relative to `run_dir`, contents) into `run_dir`, each written
// atomically, folders created.
absl::Status WriteTaskPredictions(const std::string& run_dir,
                                  const std::vector<std::pair<std::string, std::string>>& files);

}  // namespace cloze

#endif  // CLOZE_TRAINER_FINETUNE_TASK_H_
