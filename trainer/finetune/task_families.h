// The task families behind LoadFinetuneTask (trainer/finetune_task.h), one file each:
// sentence_task.cc, tagging_task.cc, span_task.cc. Each is read from its files by Load*,
// or made from parts already in memory by Make* (what Load* does after reading; tests use
// it on hand-made data). A new family is one file and its two lines here and in the
// factory (finetune_task.cc).
#ifndef CLOZE_TRAINER_FINETUNE_TASK_FAMILIES_H_
#define CLOZE_TRAINER_FINETUNE_TASK_FAMILIES_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "proto/train_config.pb.h"
#include "tasks/conllu.h"
#include "tasks/features.h"
#include "tasks/squad_features.h"
#include "tasks/squad_postprocess.h"
#include "tasks/task_example.h"
#include "trainer/finetune_task.h"

namespace cloze::finetune {

// The readers' options: FinetuneConfig.skip_bad_lines.
inline tasks::ReadOptions ReadOptionsOf(const FinetuneConfig& config) {
  return {.skip_bad_lines = config.skip_bad_lines()};
}

// What Load* reads and featurises: the train and eval splits (and the sentence family's
// other splits), or none of them, only what the spec depends on
// (LoadFinetuneTaskForPrediction).
enum class TaskSplits { kTrainAndEval, kNone };

bool IsTaggingTask(const std::string& task);  // "pos"
bool IsSpanTask(const std::string& task);     // "squad", "squad_v2"

// Sentence tasks: GLUE by name, or "generic".
absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadSentenceTask(const FinetuneConfig& config,
                                                               std::unique_ptr<data::Tokenizer> tokenizer,
                                                               TaskSplits splits);
// The train split's example count without tokenising (one model input per example).
absl::StatusOr<int64_t> CountSentenceTrainExamples(const FinetuneConfig& config);
// `dev[i]` is the feature of `dev_examples[i]`; train and dev features must carry their
// label (or score, for a regression spec). `config` says how PredictFile reads and
// featurises a file (task, columns, max_seq_length).
std::unique_ptr<FinetuneTask> MakeSentenceTask(FinetuneConfig config, tasks::TaskSpec spec,
                                               std::unique_ptr<data::Tokenizer> tokenizer,
                                               std::string eval_split, std::vector<tasks::SequenceFeature> train,
                                               std::vector<tasks::SequenceFeature> dev,
                                               std::vector<tasks::SentenceExample> dev_examples);

// "pos": CoNLL-U files from config.data_dir, tags from config.tag_set.
absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadTaggingTask(const FinetuneConfig& config,
                                                              std::unique_ptr<data::Tokenizer> tokenizer,
                                                              TaskSplits splits);
// The sentences featurised at max_seq_length with spec.labels as the tag list
// (TaggingFeatures' errors); PredictFile reads `column`'s tags.
absl::StatusOr<std::unique_ptr<FinetuneTask>> MakeTaggingTask(tasks::TaskSpec spec,
                                                              std::unique_ptr<data::Tokenizer> tokenizer,
                                                              std::string eval_split,
                                                              const std::vector<tasks::TaggedSentence>& train,
                                                              std::vector<tasks::TaggedSentence> dev,
                                                              int max_seq_length, tasks::PosTagSet column);

// "squad", "squad_v2": SQuAD-format files from config.data_dir.
absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadSpanTask(const FinetuneConfig& config,
                                                           std::unique_ptr<data::Tokenizer> tokenizer,
                                                           TaskSplits splits);
// The questions featurised with `features` (SquadFeatures' errors); the dev split is
// post-processed with `postprocess` (its version_2_with_negative decides the metrics'
// version) and scored per question.
absl::StatusOr<std::unique_ptr<FinetuneTask>> MakeSpanTask(std::string name, std::unique_ptr<data::Tokenizer> tokenizer,
                                                           std::string eval_split,
                                                           const std::vector<tasks::QaExample>& train,
                                                           std::vector<tasks::QaExample> dev,
                                                           const tasks::SquadFeatureOptions& features,
                                                           const tasks::SquadPostprocessOptions& postprocess);

}  // namespace cloze::finetune

#endif  // CLOZE_TRAINER_FINETUNE_TASK_FAMILIES_H_
