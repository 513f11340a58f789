// POS tagging on a CoNLL-U treebank ("pos"): one model input per window of whole words, the
// token-classification head, accuracy over words (trainer/finetune_task.h).
#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eval/tagging.h"
#include "nlohmann/json.hpp"
#include "tasks/conllu.h"
#include "tasks/tagging_features.h"
#include "trainer/finetune/dev_forward.h"
#include "trainer/finetune/task_families.h"

namespace cloze::finetune {
namespace {

namespace fs = std::filesystem;

// The split's file: config's own name under data_dir, or the one file of data_dir whose
// name ends in -ud-<split>.conllu or -ud-<split>.conllu.xz (UD's naming).
absl::StatusOr<std::string> TreebankFile(const FinetuneConfig& c, const std::string& split, const std::string& named) {
  if (!named.empty()) return absl::StrCat(c.data_dir(), "/", named);
  absl::StatusOr<std::string> found = tasks::FindTreebankFile(c.data_dir(), split);
  if (found.ok()) return found;
  const char* flag = split == "train" ? "train_file" : "dev_file";
  return absl::Status(found.status().code(), absl::IsNotFound(found.status())
                                                 ? absl::StrCat(found.status().message(), " (--data_dir of task pos; or name it with --", flag, ")")
                                                 : absl::StrCat(found.status().message(), ": name one with --", flag));
}

// "en_ewt-upos" from en_ewt-ud-train.conllu; "pos-upos" when the name is not UD's.
std::string TaskName(const std::string& train_path, const std::string& tag_set) {
  const std::string file = fs::path(train_path).filename().string();
  const size_t ud = file.find("-ud-");
  return absl::StrCat(ud == std::string::npos || ud == 0 ? "pos" : file.substr(0, ud), "-", tag_set);
}

// XPOS has no fixed inventory: the tags of both splits, so that a dev tag the train split
// lacks (a small treebank, a slice) is scored as a miss instead of failing the run. The
// model never learns it; only the head has an output for it.
std::vector<std::string> XposInventory(const std::vector<tasks::TaggedSentence>& train,
                                       const std::vector<tasks::TaggedSentence>& dev) {
  std::vector<tasks::TaggedSentence> both = train;
  both.insert(both.end(), dev.begin(), dev.end());
  return tasks::CollectTags(both);
}

// Sentences as the model reads them.
struct TaggedSplit {
  std::string name;  // the split's, or the file's path: what errors name
  std::vector<tasks::TaggedSentence> sentences;
  std::vector<std::vector<tasks::TaggingFeature>> windows;  // per sentence
  std::vector<ModelInput> inputs;                            // the windows, in order
};

// A sentence whose every tag is "_", CoNLL-U's "unspecified", as an untagged one.
void DropUnspecifiedTags(tasks::TaggedSentence& sentence) {
  if (std::all_of(sentence.tags.begin(), sentence.tags.end(), [](const std::string& tag) { return tag == "_"; })) {
    sentence.tags.clear();
  }
}

class TaggingTask final : public FinetuneTask {
 public:
  TaggingTask(tasks::TaskSpec spec, std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
              int max_seq_length, tasks::PosTagSet column);

  // The train split's windows, and the eval split's with their gold tags.
  absl::Status AddSplits(const std::vector<tasks::TaggedSentence>& train, std::vector<tasks::TaggedSentence> dev);
  absl::StatusOr<TaskEvaluation> Evaluate(TrainingBackend& model, int batch_size, int64_t step) const override;
  absl::StatusOr<FilePredictions> PredictFile(TrainingBackend& model, const std::string& path,
                                              int batch_size) const override;

 private:
  // `sentences` in windows; with_tags: their tags as the windows' labels, else none (the
  // loss then counts nothing, and the tags need not be the task's).
  absl::StatusOr<TaggedSplit> Featurise(std::string name, std::vector<tasks::TaggedSentence> sentences,
                                        bool with_tags) const;
  // Each sentence's predicted tag index per word, from its windows' per-token logits.
  absl::StatusOr<std::vector<std::vector<int32_t>>> PredictWords(TrainingBackend& model, const TaggedSplit& split,
                                                                 int batch_size, double* loss) const;
  std::string PredictionsJsonl(const TaggedSplit& split, const std::vector<std::vector<int32_t>>& predicted) const;

  int max_seq_length_;
  tasks::PosTagSet column_;  // the CoNLL-U column PredictFile reads tags from
  TaggedSplit dev_;
  std::vector<std::vector<int32_t>> dev_gold_;  // tag index per word
};

TaggingTask::TaggingTask(tasks::TaskSpec spec, std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
                         int max_seq_length, tasks::PosTagSet column)
    : max_seq_length_(max_seq_length), column_(column) {
  spec_ = std::move(spec);
  head_ = {.kind = HeadKind::kTokenClassification, .num_labels = static_cast<int>(spec_.labels.size())};
  eval_split_ = std::move(eval_split);
  tokenizer_ = std::move(tokenizer);
  batch_layout_ = {.labels = LabelLayout::kPerToken};
}

absl::Status TaggingTask::AddSplits(const std::vector<tasks::TaggedSentence>& train,
                                    std::vector<tasks::TaggedSentence> dev) {
  absl::StatusOr<std::vector<tasks::TaggingFeature>> train_windows =
      tasks::TaggingFeatures(train, spec_.labels, *tokenizer_, max_seq_length_);
  if (!train_windows.ok()) return train_windows.status();
  train_ = ToModelInputs(*train_windows);
  train_size_ = static_cast<int64_t>(train_.size());
  absl::StatusOr<TaggedSplit> featurised = Featurise(eval_split_, std::move(dev), /*with_tags=*/true);
  if (!featurised.ok()) return featurised.status();
  dev_ = *std::move(featurised);
  for (const tasks::TaggedSentence& sentence : dev_.sentences) {
    std::vector<int32_t> gold;
    for (const std::string& tag : sentence.tags) {
      absl::StatusOr<int> index = spec_.LabelIndex(tag);
      if (!index.ok()) return index.status();  // TaggingFeatures refused it already
      gold.push_back(*index);
    }
    dev_gold_.push_back(std::move(gold));
  }
  if (dev_.inputs.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("the ", eval_split_, " split has no words to tag"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TaggedSplit> TaggingTask::Featurise(std::string name, std::vector<tasks::TaggedSentence> sentences,
                                                   bool with_tags) const {
  TaggedSplit out;
  out.name = std::move(name);
  out.sentences = std::move(sentences);
  for (size_t s = 0; s < out.sentences.size(); ++s) {
    const tasks::TaggedSentence& sentence = out.sentences[s];
    const tasks::TaggedSentence untagged = {.id = sentence.id, .line = sentence.line, .words = sentence.words};
    absl::StatusOr<std::vector<tasks::TaggingFeature>> windows = tasks::TaggingFeatures(
        with_tags ? sentence : untagged, static_cast<int64_t>(s), spec_.labels, *tokenizer_, max_seq_length_);
    if (!windows.ok()) return windows.status();
    for (const tasks::TaggingFeature& w : *windows) out.inputs.push_back(ToModelInput(w));
    out.windows.push_back(*std::move(windows));
  }
  return out;
}

absl::StatusOr<std::vector<std::vector<int32_t>>> TaggingTask::PredictWords(TrainingBackend& model,
                                                                            const TaggedSplit& split, int batch_size,
                                                                            double* loss) const {
  absl::StatusOr<DevOutputs> outputs =
      ForwardDev(model, split.inputs, batch_layout_, tokenizer_->pad_id(), batch_size, 1, split.name);
  if (!outputs.ok()) return outputs.status();
  *loss = outputs->loss;
  const std::vector<std::vector<float>>& logits = outputs->logits[0];
  const size_t tags = spec_.labels.size();
  std::vector<std::vector<int32_t>> out;
  size_t next = 0;  // the window's index in split.inputs and logits
  for (size_t s = 0; s < split.sentences.size(); ++s) {
    std::vector<std::vector<int32_t>> token_predictions;
    for (size_t w = 0; w < split.windows[s].size(); ++w, ++next) {
      const std::vector<float>& rows = logits[next];
      std::vector<int32_t> predicted;
      for (size_t t = 0; t + tags <= rows.size(); t += tags) {
        predicted.push_back(static_cast<int32_t>(std::max_element(rows.begin() + t, rows.begin() + t + tags) -
                                                 (rows.begin() + t)));
      }
      token_predictions.push_back(std::move(predicted));
    }
    absl::StatusOr<std::vector<int32_t>> words = tasks::WordPredictions(
        split.windows[s], token_predictions, static_cast<int>(split.sentences[s].words.size()));
    if (!words.ok()) return words.status();
    out.push_back(*std::move(words));
  }
  return out;
}

absl::StatusOr<TaskEvaluation> TaggingTask::Evaluate(TrainingBackend& model, int batch_size, int64_t step) const {
  TaskEvaluation out;
  out.step = step;
  absl::StatusOr<std::vector<std::vector<int32_t>>> predicted = PredictWords(model, dev_, batch_size, &out.loss);
  if (!predicted.ok()) return predicted.status();
  std::vector<int> gold_flat, predicted_flat;
  for (size_t s = 0; s < dev_gold_.size(); ++s) {
    gold_flat.insert(gold_flat.end(), dev_gold_[s].begin(), dev_gold_[s].end());
    predicted_flat.insert(predicted_flat.end(), (*predicted)[s].begin(), (*predicted)[s].end());
  }
  absl::StatusOr<double> accuracy = eval::TokenAccuracy(gold_flat, predicted_flat);
  if (!accuracy.ok()) return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", accuracy.status().message()));
  out.metrics.emplace_back("accuracy", *accuracy);
  out.degenerate = std::all_of(predicted_flat.begin(), predicted_flat.end(),
                               [&](int tag) { return tag == predicted_flat.front(); });
  out.prediction_files.emplace_back(absl::StrCat("predictions_", eval_split_, ".jsonl"),
                                    PredictionsJsonl(dev_, *predicted));
  return out;
}

absl::StatusOr<FilePredictions> TaggingTask::PredictFile(TrainingBackend& model, const std::string& path,
                                                         int batch_size) const {
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::TaggedSentence>> sentences = tasks::ReadConllu(path, column_, {}, &stats);
  if (!sentences.ok()) return sentences.status();
  for (tasks::TaggedSentence& sentence : *sentences) DropUnspecifiedTags(sentence);
  absl::StatusOr<TaggedSplit> split = Featurise(path, *std::move(sentences), /*with_tags=*/false);
  if (!split.ok()) return absl::Status(split.status().code(), absl::StrCat(path, ": ", split.status().message()));
  double loss = 0;  // no labels: nothing counted
  absl::StatusOr<std::vector<std::vector<int32_t>>> predicted = PredictWords(model, *split, batch_size, &loss);
  if (!predicted.ok()) return predicted.status();
  return FilePredictions{.examples = static_cast<int64_t>(split->sentences.size()),
                         .jsonl = PredictionsJsonl(*split, *predicted)};
}

std::string TaggingTask::PredictionsJsonl(const TaggedSplit& split,
                                          const std::vector<std::vector<int32_t>>& predicted) const {
  std::string text;
  for (size_t s = 0; s < split.sentences.size(); ++s) {
    const tasks::TaggedSentence& sentence = split.sentences[s];
    nlohmann::json j;
    j["id"] = sentence.id;
    j["line"] = sentence.line;
    j["words"] = sentence.words;
    if (!sentence.tags.empty()) j["tags"] = sentence.tags;
    std::vector<std::string> tags;
    for (int32_t tag : predicted[s]) tags.push_back(tag >= 0 ? spec_.labels[tag] : "");
    j["predictions"] = tags;
    absl::StrAppend(&text, j.dump(), "\n");
  }
  return text;
}

}  // namespace

bool IsTaggingTask(const std::string& task) { return task == "pos"; }

absl::StatusOr<std::unique_ptr<FinetuneTask>> MakeTaggingTask(tasks::TaskSpec spec,
                                                              std::unique_ptr<data::Tokenizer> tokenizer,
                                                              std::string eval_split,
                                                              const std::vector<tasks::TaggedSentence>& train,
                                                              std::vector<tasks::TaggedSentence> dev,
                                                              int max_seq_length, tasks::PosTagSet column) {
  auto task = std::make_unique<TaggingTask>(std::move(spec), std::move(tokenizer), std::move(eval_split),
                                            max_seq_length, column);
  if (absl::Status s = task->AddSplits(train, std::move(dev)); !s.ok()) return s;
  return task;
}

absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadTaggingTask(const FinetuneConfig& c,
                                                              std::unique_ptr<data::Tokenizer> tokenizer,
                                                              TaskSplits splits) {
  const std::string tag_set = c.tag_set().empty() ? "upos" : c.tag_set();
  if (tag_set != "upos" && tag_set != "xpos") {
    return absl::InvalidArgumentError(absl::StrCat("--tag_set=", tag_set, ": must be upos or xpos"));
  }
  const tasks::PosTagSet column = tag_set == "upos" ? tasks::PosTagSet::kUpos : tasks::PosTagSet::kXpos;
  const std::string eval_split = c.eval_split().empty() ? "dev" : c.eval_split();
  absl::StatusOr<std::string> train_path = TreebankFile(c, "train", c.train_file());
  if (splits == TaskSplits::kNone && column == tasks::PosTagSet::kUpos) {
    // The universal tags need no file; the name is the treebank's while its files are there.
    return std::make_unique<TaggingTask>(
        tasks::TaggingTaskSpec(TaskName(train_path.ok() ? *train_path : "", tag_set), tasks::UniversalPosTags()),
        std::move(tokenizer), eval_split, c.max_seq_length(), column);
  }
  if (!train_path.ok()) return train_path.status();
  absl::StatusOr<std::string> dev_path = TreebankFile(c, eval_split, c.dev_file());
  if (!dev_path.ok()) return dev_path.status();
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::TaggedSentence>> train = tasks::ReadConllu(*train_path, column, ReadOptionsOf(c), &stats);
  if (!train.ok()) return train.status();
  absl::StatusOr<std::vector<tasks::TaggedSentence>> dev = tasks::ReadConllu(*dev_path, column, ReadOptionsOf(c), &stats);
  if (!dev.ok()) return dev.status();
  tasks::TaskSpec spec = tasks::TaggingTaskSpec(TaskName(*train_path, tag_set),
                                                column == tasks::PosTagSet::kUpos ? tasks::UniversalPosTags()
                                                                                  : XposInventory(*train, *dev));
  if (splits == TaskSplits::kNone) {
    return std::make_unique<TaggingTask>(std::move(spec), std::move(tokenizer), eval_split, c.max_seq_length(), column);
  }
  absl::StatusOr<std::unique_ptr<FinetuneTask>> task = MakeTaggingTask(
      std::move(spec), std::move(tokenizer), eval_split, *train, *std::move(dev), c.max_seq_length(), column);
  if (!task.ok()) {
    // A tag outside the inventory (XPOS: one the train split lacks) names its sentence; add the file.
    return absl::Status(task.status().code(), absl::StrCat(*train_path, " / ", *dev_path, ": ", task.status().message()));
  }
  (*task)->AddReadStats(stats);
  return task;
}

}  // namespace cloze::finetune
