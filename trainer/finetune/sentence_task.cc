// Sentence and sentence-pair tasks (GLUE, "generic"): one model input per example, the
// sequence-classification head, GLUE's metrics (trainer/finetune_task.h).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "eval/classification.h"
#include "eval/correlation.h"
#include "nlohmann/json.hpp"
#include "tasks/generic_task.h"
#include "tasks/glue_tasks.h"
#include "trainer/finetune/dev_forward.h"
#include "trainer/finetune/task_families.h"

namespace cloze::finetune {
namespace {

namespace fs = std::filesystem;

bool IsGeneric(const FinetuneConfig& c) { return c.task() == "generic"; }

std::string EvalSplit(const FinetuneConfig& c) {
  if (!c.eval_split().empty()) return c.eval_split();
  absl::StatusOr<tasks::TaskSpec> spec = tasks::GlueTaskSpec(c.task());
  return spec.ok() && spec->name == "MNLI" ? "dev_matched" : "dev";
}

// GLUE: data_dir is the task's folder, or a folder holding it (PATH/GLUE with PATH/GLUE/RTE).
std::string GlueTaskDir(const FinetuneConfig& c, const tasks::TaskSpec& spec) {
  const std::string nested = absl::StrCat(c.data_dir(), "/", spec.name);
  return fs::is_directory(nested) ? nested : c.data_dir();
}

tasks::GenericTaskFormat GenericFormat(const FinetuneConfig& c) {
  tasks::GenericTaskFormat format;
  if (!c.text_a_column().empty()) format.text_a_column = c.text_a_column();
  format.text_b_column = c.text_b_column();
  if (!c.label_column().empty()) format.label_column = c.label_column();
  format.regression = c.regression();
  format.labels.assign(c.labels().begin(), c.labels().end());
  return format;
}

std::string GenericPath(const FinetuneConfig& c, const std::string& file, const char* fallback) {
  return absl::StrCat(c.data_dir(), "/", file.empty() ? fallback : file);
}

absl::StatusOr<std::vector<tasks::SentenceExample>> ReadSplit(const FinetuneConfig& c, const tasks::TaskSpec& spec,
                                                              const std::string& split) {
  tasks::ReadStats stats;
  if (!IsGeneric(c)) return tasks::ReadGlueSplit(GlueTaskDir(c, spec), c.task(), split, {}, &stats);
  const std::string path = split == "train" ? GenericPath(c, c.train_file(), "train.tsv")
                                            : GenericPath(c, c.dev_file(), "dev.tsv");
  return tasks::ReadGenericSplit(path, split, spec, GenericFormat(c), {}, &stats);
}

class SentenceTask final : public FinetuneTask {
 public:
  SentenceTask(tasks::TaskSpec spec, std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
               std::vector<tasks::SequenceFeature> train, std::vector<tasks::SequenceFeature> dev,
               std::vector<tasks::SentenceExample> dev_examples)
      : dev_(ToModelInputs(dev)), dev_examples_(std::move(dev_examples)) {
    spec_ = std::move(spec);
    const bool regression = spec_.kind == tasks::TaskKind::kRegression;
    head_ = {.kind = HeadKind::kSequenceClassification, .num_labels = regression ? 1 : static_cast<int>(spec_.labels.size())};
    eval_split_ = std::move(eval_split);
    tokenizer_ = std::move(tokenizer);
    batch_layout_ = {.labels = LabelLayout::kPerSequence, .regression = regression};
    train_ = ToModelInputs(train);
    train_size_ = static_cast<int64_t>(train_.size());
  }

  absl::StatusOr<TaskEvaluation> Evaluate(TrainingBackend& model, int batch_size, int64_t step) const override;

 private:
  absl::StatusOr<double> Metric(const std::string& name, const std::vector<int>& gold_labels,
                                const std::vector<int>& predicted_labels, const std::vector<double>& gold_scores,
                                const std::vector<double>& predicted_scores, bool degenerate) const;
  std::string PredictionsJsonl(const std::vector<int>& predicted_labels, const std::vector<double>& predicted_scores,
                               const std::vector<std::vector<float>>& logits) const;

  std::vector<ModelInput> dev_;
  std::vector<tasks::SentenceExample> dev_examples_;  // dev_[i] is of dev_examples_[i]
};

absl::StatusOr<TaskEvaluation> SentenceTask::Evaluate(TrainingBackend& model, int batch_size, int64_t step) const {
  absl::StatusOr<DevOutputs> outputs =
      ForwardDev(model, dev_, batch_layout_, tokenizer_->pad_id(), batch_size, 1, eval_split_);
  if (!outputs.ok()) return outputs.status();
  TaskEvaluation out;
  out.step = step;
  out.loss = outputs->loss;
  const bool regression = batch_layout_.regression;
  std::vector<int> gold_labels, predicted_labels;
  std::vector<double> gold_scores, predicted_scores;
  const std::vector<std::vector<float>>& logits = outputs->logits[0];
  for (size_t i = 0; i < dev_.size(); ++i) {
    const std::vector<float>& row = logits[i];
    if (regression) {
      predicted_scores.push_back(row[0]);
      gold_scores.push_back(*dev_[i].target);
    } else {
      predicted_labels.push_back(static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()));
      gold_labels.push_back(dev_[i].labels[0]);
    }
  }
  out.degenerate = regression ? std::all_of(predicted_scores.begin(), predicted_scores.end(),
                                            [&](double v) { return v == predicted_scores.front(); })
                              : std::all_of(predicted_labels.begin(), predicted_labels.end(),
                                            [&](int v) { return v == predicted_labels.front(); });
  for (const std::string& name : spec_.metrics) {
    absl::StatusOr<double> value =
        Metric(name, gold_labels, predicted_labels, gold_scores, predicted_scores, out.degenerate);
    if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", value.status().message()));
    out.metrics.emplace_back(name, std::isfinite(*value) ? *value : 0.0);
  }
  out.prediction_files.emplace_back(absl::StrCat("predictions_", eval_split_, ".jsonl"),
                                    PredictionsJsonl(predicted_labels, predicted_scores, logits));
  return out;
}

absl::StatusOr<double> SentenceTask::Metric(const std::string& name, const std::vector<int>& gold_labels,
                                            const std::vector<int>& predicted_labels,
                                            const std::vector<double>& gold_scores,
                                            const std::vector<double>& predicted_scores, bool degenerate) const {
  const bool regression = batch_layout_.regression;
  if (regression && (name == "pearson" || name == "spearman")) {
    if (degenerate) return 0.0;
    return name == "pearson" ? eval::PearsonCorrelation(predicted_scores, gold_scores)
                             : eval::SpearmanCorrelation(predicted_scores, gold_scores);
  }
  if (!regression && name == "accuracy") return eval::Accuracy(gold_labels, predicted_labels);
  if (!regression && name == "matthews_corrcoef") return eval::MatthewsCorrelation(gold_labels, predicted_labels);
  if (!regression && name == "f1") return eval::BinaryF1(gold_labels, predicted_labels, 1);
  return absl::InvalidArgumentError(absl::StrCat("unknown metric \"", name, "\""));
}

std::string SentenceTask::PredictionsJsonl(const std::vector<int>& predicted_labels,
                                           const std::vector<double>& predicted_scores,
                                           const std::vector<std::vector<float>>& logits) const {
  std::string text;
  for (size_t i = 0; i < dev_examples_.size(); ++i) {
    const tasks::SentenceExample& x = dev_examples_[i];
    nlohmann::json j;
    j["guid"] = x.guid;
    j["line"] = x.line;
    if (batch_layout_.regression) {
      if (x.score) j["score"] = *x.score;
      j["prediction"] = predicted_scores[i];
    } else {
      if (x.label) j["label"] = spec_.labels[*x.label];
      j["prediction"] = spec_.labels[predicted_labels[i]];
    }
    j["logits"] = logits[i];
    absl::StrAppend(&text, j.dump(), "\n");
  }
  return text;
}

}  // namespace

std::unique_ptr<FinetuneTask> MakeSentenceTask(tasks::TaskSpec spec, std::unique_ptr<data::Tokenizer> tokenizer,
                                               std::string eval_split, std::vector<tasks::SequenceFeature> train,
                                               std::vector<tasks::SequenceFeature> dev,
                                               std::vector<tasks::SentenceExample> dev_examples) {
  return std::make_unique<SentenceTask>(std::move(spec), std::move(tokenizer), std::move(eval_split), std::move(train),
                                        std::move(dev), std::move(dev_examples));
}

absl::StatusOr<int64_t> CountSentenceTrainExamples(const FinetuneConfig& c) {
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(c);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::vector<tasks::SentenceExample>> train = ReadSplit(c, *spec, "train");
  if (!train.ok()) return train.status();
  // The eval split is read too, so that a missing one fails before the run starts.
  absl::StatusOr<std::vector<tasks::SentenceExample>> dev = ReadSplit(c, *spec, EvalSplit(c));
  if (!dev.ok()) return dev.status();
  return static_cast<int64_t>(train->size());
}

absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadSentenceTask(const FinetuneConfig& c,
                                                               std::unique_ptr<data::Tokenizer> tokenizer) {
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(c);
  if (!spec.ok()) return spec.status();
  if (spec->kind != tasks::TaskKind::kSingle && spec->kind != tasks::TaskKind::kPair &&
      spec->kind != tasks::TaskKind::kRegression) {
    return absl::InvalidArgumentError(absl::StrCat("FinetuneConfig.task: ", spec->name, " is a ",
                                                   tasks::TaskKindName(spec->kind), " task, not a sentence task"));
  }
  absl::StatusOr<std::vector<tasks::SentenceExample>> train = ReadSplit(c, *spec, "train");
  if (!train.ok()) return train.status();
  const std::string eval_split = EvalSplit(c);
  absl::StatusOr<std::vector<tasks::SentenceExample>> dev = ReadSplit(c, *spec, eval_split);
  if (!dev.ok()) return dev.status();
  absl::StatusOr<std::vector<tasks::SequenceFeature>> train_features =
      tasks::SentenceFeatures(*train, *tokenizer, c.max_seq_length());
  if (!train_features.ok()) return train_features.status();
  absl::StatusOr<std::vector<tasks::SequenceFeature>> dev_features =
      tasks::SentenceFeatures(*dev, *tokenizer, c.max_seq_length());
  if (!dev_features.ok()) return dev_features.status();
  return MakeSentenceTask(*std::move(spec), std::move(tokenizer), eval_split, *std::move(train_features),
                          *std::move(dev_features), *std::move(dev));
}

}  // namespace cloze::finetune

namespace cloze {

using finetune::GenericFormat;
using finetune::GenericPath;
using finetune::IsGeneric;

absl::StatusOr<tasks::TaskSpec> FinetuneTaskSpec(const FinetuneConfig& c) {
  if (finetune::IsTaggingTask(c.task()) || finetune::IsSpanTask(c.task())) {
    return absl::InvalidArgumentError(absl::StrCat("FinetuneConfig.task: ", c.task(), " is not a sentence task"));
  }
  if (!IsGeneric(c)) {
    absl::StatusOr<tasks::TaskSpec> spec = tasks::GlueTaskSpec(c.task());
    if (!spec.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("FinetuneConfig.task: ", spec.status().message(),
                                                     ", or \"generic\", \"pos\", \"squad\", \"squad_v2\""));
    }
    return spec;
  }
  return tasks::GenericTaskSpec("generic", GenericFormat(c), GenericPath(c, c.train_file(), "train.tsv"), {});
}

absl::StatusOr<std::vector<tasks::SentenceExample>> ReadFinetuneFile(const FinetuneConfig& c,
                                                                     const tasks::TaskSpec& spec,
                                                                     const std::string& path) {
  const std::filesystem::path file(path);
  const std::string split = file.stem().string();
  const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  tasks::ReadStats stats;
  if (IsGeneric(c)) return tasks::ReadGenericSplit(path, split, spec, GenericFormat(c), {}, &stats);
  absl::StatusOr<std::vector<std::string>> splits = tasks::GlueSplits(c.task());
  if (!splits.ok()) return splits.status();
  if (file.extension() != ".tsv" || std::find(splits->begin(), splits->end(), split) == splits->end()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": a file of task ", spec.name, " must be named after one of its splits (",
                                                   absl::StrJoin(*splits, ".tsv, "), ".tsv), whose layout it has"));
  }
  return tasks::ReadGlueSplit(dir, c.task(), split, {}, &stats);
}

}  // namespace cloze
