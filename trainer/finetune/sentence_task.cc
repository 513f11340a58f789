// Sentence and sentence-pair tasks (GLUE, "generic"): one model input per example, the
// sequence-classification head, GLUE's metrics (trainer/finetune_task.h).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "eval/classification.h"
#include "eval/correlation.h"
#include "nlohmann/json.hpp"
#include "tasks/generic_task.h"
#include "tasks/glue_submission.h"
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

// One split's examples; the read's counts are added to *stats.
absl::StatusOr<std::vector<tasks::SentenceExample>> ReadSplit(const FinetuneConfig& c, const tasks::TaskSpec& spec,
                                                              const std::string& split, tasks::ReadStats* stats) {
  if (!IsGeneric(c)) return tasks::ReadGlueSplit(GlueTaskDir(c, spec), c.task(), split, ReadOptionsOf(c), stats);
  const std::string path = split == "train" ? GenericPath(c, c.train_file(), "train.tsv")
                                            : GenericPath(c, c.dev_file(), "dev.tsv");
  return tasks::ReadGenericSplit(path, split, spec, GenericFormat(c), ReadOptionsOf(c), stats);
}

// A split the task reads besides train and the eval split: MNLI's second dev split, or a
// GLUE test split (unlabelled: its inputs carry placeholder labels the loss ignores).
struct SentenceSplit {
  std::string name;  // "dev_mismatched", "test", "test_matched", ...
  std::vector<tasks::SentenceExample> examples;
  std::vector<ModelInput> inputs;  // inputs[i] is of examples[i]
};

// One split's predictions and, when it is labelled, its metrics.
struct SplitScores {
  double loss = 0;
  std::vector<std::pair<std::string, double>> metrics;
  bool degenerate = false;
  std::vector<int> predicted_labels;     // classification
  std::vector<double> predicted_scores;  // regression
  std::vector<std::vector<float>> logits;
};

// A GLUE task's examples read from one of its files, named after the split whose layout it
// has; a generic task's from a file with the run's columns.
absl::StatusOr<std::vector<tasks::SentenceExample>> ReadFileOfTask(const FinetuneConfig& c, const tasks::TaskSpec& spec,
                                                                   const std::string& path,
                                                                   const tasks::ReadOptions& options) {
  const fs::path file(path);
  const std::string split = file.stem().string();
  tasks::ReadStats stats;
  if (IsGeneric(c)) return tasks::ReadGenericSplit(path, split, spec, GenericFormat(c), options, &stats);
  absl::StatusOr<std::vector<std::string>> splits = tasks::GlueSplits(c.task());
  if (!splits.ok()) return splits.status();
  if (file.extension() != ".tsv" || std::find(splits->begin(), splits->end(), split) == splits->end()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": a file of task ", spec.name,
                                                   " must be named after one of its splits (",
                                                   absl::StrJoin(*splits, ".tsv, "), ".tsv), whose layout it has"));
  }
  const std::string dir = file.has_parent_path() ? file.parent_path().string() : ".";
  return tasks::ReadGlueSplit(dir, c.task(), split, options, &stats);
}

std::vector<double> Softmax(const std::vector<float>& logits) {
  const float max_logit = *std::max_element(logits.begin(), logits.end());
  std::vector<double> p(logits.size());
  double total = 0;
  for (size_t i = 0; i < logits.size(); ++i) total += p[i] = std::exp(static_cast<double>(logits[i]) - max_logit);
  for (double& v : p) v /= total;
  return p;
}

class SentenceTask final : public FinetuneTask {
 public:
  SentenceTask(FinetuneConfig config, tasks::TaskSpec spec, std::unique_ptr<data::Tokenizer> tokenizer,
               std::string eval_split, std::vector<tasks::SequenceFeature> train,
               std::vector<tasks::SequenceFeature> dev, std::vector<tasks::SentenceExample> dev_examples)
      : config_(std::move(config)),
        dev_{.name = eval_split, .examples = std::move(dev_examples), .inputs = ToModelInputs(dev)} {
    spec_ = std::move(spec);
    const bool regression = spec_.kind == tasks::TaskKind::kRegression;
    head_ = {.kind = HeadKind::kSequenceClassification, .num_labels = regression ? 1 : static_cast<int>(spec_.labels.size())};
    eval_split_ = std::move(eval_split);
    tokenizer_ = std::move(tokenizer);
    batch_layout_ = {.labels = LabelLayout::kPerSequence, .regression = regression};
    train_ = ToModelInputs(train);
    train_size_ = static_cast<int64_t>(train_.size());
  }

  // Evaluated with the eval split, its metrics named "<metric>_<split without dev_>"
  // (MNLI: "accuracy_mismatched").
  void AddSecondEvalSplit(SentenceSplit split) { second_eval_ = std::move(split); }
  // Predicted by the final model (PredictUnlabelled).
  void AddTestSplit(SentenceSplit split) { tests_.push_back(std::move(split)); }

  absl::StatusOr<TaskEvaluation> Evaluate(TrainingBackend& model, int batch_size, int64_t step) const override;
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> PredictUnlabelled(TrainingBackend& model,
                                                                                     int batch_size) const override;
  absl::StatusOr<FilePredictions> PredictFile(TrainingBackend& model, const std::string& path,
                                              int batch_size) const override;

 private:
  absl::StatusOr<SplitScores> Score(TrainingBackend& model, const SentenceSplit& split, int batch_size,
                                    bool labelled) const;
  absl::StatusOr<double> Metric(const std::string& name, const std::vector<int>& gold_labels,
                                const std::vector<int>& predicted_labels, const std::vector<double>& gold_scores,
                                const std::vector<double>& predicted_scores, bool degenerate) const;
  std::string PredictionsJsonl(const SentenceSplit& split, const SplitScores& scores) const;

  FinetuneConfig config_;  // how a file is read and featurised (PredictFile)
  SentenceSplit dev_;
  std::optional<SentenceSplit> second_eval_;
  std::vector<SentenceSplit> tests_;
};

absl::StatusOr<SplitScores> SentenceTask::Score(TrainingBackend& model, const SentenceSplit& split, int batch_size,
                                                bool labelled) const {
  absl::StatusOr<DevOutputs> outputs =
      ForwardDev(model, split.inputs, batch_layout_, tokenizer_->pad_id(), batch_size, 1, split.name);
  if (!outputs.ok()) return outputs.status();
  SplitScores out;
  out.loss = outputs->loss;
  const bool regression = batch_layout_.regression;
  std::vector<int> gold_labels;
  std::vector<double> gold_scores;
  out.logits = std::move(outputs->logits[0]);
  for (size_t i = 0; i < split.inputs.size(); ++i) {
    const std::vector<float>& row = out.logits[i];
    if (regression) {
      out.predicted_scores.push_back(row[0]);
      if (labelled) gold_scores.push_back(*split.inputs[i].target);
    } else {
      out.predicted_labels.push_back(static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()));
      if (labelled) gold_labels.push_back(split.inputs[i].labels[0]);
    }
  }
  const std::vector<double>& scores = out.predicted_scores;
  const std::vector<int>& labels = out.predicted_labels;
  out.degenerate = regression ? std::all_of(scores.begin(), scores.end(), [&](double v) { return v == scores.front(); })
                              : std::all_of(labels.begin(), labels.end(), [&](int v) { return v == labels.front(); });
  if (!labelled) return out;
  for (const std::string& name : spec_.metrics) {
    absl::StatusOr<double> value = Metric(name, gold_labels, labels, gold_scores, scores, out.degenerate);
    if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(spec_.name, ": ", value.status().message()));
    out.metrics.emplace_back(name, std::isfinite(*value) ? *value : 0.0);
  }
  return out;
}

absl::StatusOr<TaskEvaluation> SentenceTask::Evaluate(TrainingBackend& model, int batch_size, int64_t step) const {
  absl::StatusOr<SplitScores> scores = Score(model, dev_, batch_size, /*labelled=*/true);
  if (!scores.ok()) return scores.status();
  TaskEvaluation out;
  out.step = step;
  out.loss = scores->loss;
  out.degenerate = scores->degenerate;
  out.metrics = scores->metrics;
  out.prediction_files.emplace_back(absl::StrCat("predictions_", dev_.name, ".jsonl"), PredictionsJsonl(dev_, *scores));
  if (second_eval_.has_value()) {
    absl::StatusOr<SplitScores> second = Score(model, *second_eval_, batch_size, /*labelled=*/true);
    if (!second.ok()) return second.status();
    const std::string suffix = absl::StrCat("_", absl::StripPrefix(second_eval_->name, "dev_"));
    for (const auto& [name, value] : second->metrics) out.metrics.emplace_back(name + suffix, value);
    out.prediction_files.emplace_back(absl::StrCat("predictions_", second_eval_->name, ".jsonl"),
                                      PredictionsJsonl(*second_eval_, *second));
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> SentenceTask::PredictUnlabelled(
    TrainingBackend& model, int batch_size) const {
  std::vector<std::pair<std::string, std::string>> files;
  for (const SentenceSplit& test : tests_) {
    absl::StatusOr<SplitScores> scores = Score(model, test, batch_size, /*labelled=*/false);
    if (!scores.ok()) return scores.status();
    files.emplace_back(absl::StrCat("predictions_", test.name, ".jsonl"), PredictionsJsonl(test, *scores));
    absl::StatusOr<std::string> name = tasks::GlueSubmissionFileName(spec_.name, test.name);
    if (!name.ok()) return name.status();
    absl::StatusOr<std::string> tsv =
        tasks::GlueSubmissionText(spec_, test.examples, scores->predicted_labels, scores->predicted_scores);
    if (!tsv.ok()) return tsv.status();
    files.emplace_back(absl::StrCat("glue_submission/", *name), *std::move(tsv));
  }
  return files;
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

std::string SentenceTask::PredictionsJsonl(const SentenceSplit& split, const SplitScores& scores) const {
  std::string text;
  for (size_t i = 0; i < split.examples.size(); ++i) {
    const tasks::SentenceExample& x = split.examples[i];
    nlohmann::json j;
    j["index"] = i;
    j["guid"] = x.guid;
    j["line"] = x.line;
    if (!x.id.empty()) j["id"] = x.id;
    if (batch_layout_.regression) {
      if (x.score) j["score"] = *x.score;
      j["prediction"] = scores.predicted_scores[i];
    } else {
      if (x.label) j["label"] = spec_.labels[*x.label];
      j["prediction"] = spec_.labels[scores.predicted_labels[i]];
      const std::vector<double> p = Softmax(scores.logits[i]);
      nlohmann::json probabilities;
      for (size_t c = 0; c < p.size(); ++c) probabilities[spec_.labels[c]] = p[c];
      j["probabilities"] = probabilities;
    }
    j["logits"] = scores.logits[i];
    absl::StrAppend(&text, j.dump(), "\n");
  }
  return text;
}

// A split's examples featurised, unlabelled ones with placeholder targets.
absl::StatusOr<SentenceSplit> FeaturiseSplit(std::string name, std::vector<tasks::SentenceExample> examples,
                                             const data::Tokenizer& tokenizer, int max_seq_length, bool regression) {
  absl::StatusOr<std::vector<tasks::SequenceFeature>> features =
      tasks::SentenceFeatures(examples, tokenizer, max_seq_length);
  if (!features.ok()) return features.status();
  tasks::SetPlaceholderTargets(&*features, regression);
  return SentenceSplit{.name = std::move(name), .examples = std::move(examples), .inputs = ToModelInputs(*features)};
}

absl::StatusOr<FilePredictions> SentenceTask::PredictFile(TrainingBackend& model, const std::string& path,
                                                          int batch_size) const {
  absl::StatusOr<std::vector<tasks::SentenceExample>> examples =
      ReadFileOfTask(config_, spec_, path, tasks::ReadOptions{});
  if (!examples.ok()) return examples.status();
  const int64_t count = static_cast<int64_t>(examples->size());
  absl::StatusOr<SentenceSplit> split = FeaturiseSplit(fs::path(path).stem().string(), *std::move(examples),
                                                       *tokenizer_, config_.max_seq_length(), batch_layout_.regression);
  if (!split.ok()) return absl::Status(split.status().code(), absl::StrCat(path, ": ", split.status().message()));
  absl::StatusOr<SplitScores> scores = Score(model, *split, batch_size, /*labelled=*/false);
  if (!scores.ok()) return scores.status();
  return FilePredictions{.examples = count, .jsonl = PredictionsJsonl(*split, *scores)};
}

// MNLI's second dev split, evaluated beside the first when the eval split is the default.
std::optional<std::string> SecondEvalSplit(const FinetuneConfig& c, const tasks::TaskSpec& spec) {
  if (IsGeneric(c) || spec.name != "MNLI" || !c.eval_split().empty()) return std::nullopt;
  return "dev_mismatched";
}

// The GLUE task's test splits whose files are present.
std::vector<std::string> PresentTestSplits(const FinetuneConfig& c, const tasks::TaskSpec& spec) {
  std::vector<std::string> present;
  if (IsGeneric(c)) return present;
  absl::StatusOr<std::vector<std::string>> splits = tasks::GlueSplits(spec.name);
  if (!splits.ok()) return present;
  for (const std::string& split : *splits) {
    if (absl::StartsWith(split, "test") && fs::exists(absl::StrCat(GlueTaskDir(c, spec), "/", split, ".tsv"))) {
      present.push_back(split);
    }
  }
  return present;
}

}  // namespace

std::unique_ptr<FinetuneTask> MakeSentenceTask(FinetuneConfig config, tasks::TaskSpec spec,
                                               std::unique_ptr<data::Tokenizer> tokenizer, std::string eval_split,
                                               std::vector<tasks::SequenceFeature> train,
                                               std::vector<tasks::SequenceFeature> dev,
                                               std::vector<tasks::SentenceExample> dev_examples) {
  return std::make_unique<SentenceTask>(std::move(config), std::move(spec), std::move(tokenizer), std::move(eval_split),
                                        std::move(train), std::move(dev), std::move(dev_examples));
}

absl::StatusOr<int64_t> CountSentenceTrainExamples(const FinetuneConfig& c) {
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(c);
  if (!spec.ok()) return spec.status();
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::SentenceExample>> train = ReadSplit(c, *spec, "train", &stats);
  if (!train.ok()) return train.status();
  // The eval split is read too, so that a missing one fails before the run starts.
  absl::StatusOr<std::vector<tasks::SentenceExample>> dev = ReadSplit(c, *spec, EvalSplit(c), &stats);
  if (!dev.ok()) return dev.status();
  return static_cast<int64_t>(train->size());
}

absl::StatusOr<std::unique_ptr<FinetuneTask>> LoadSentenceTask(const FinetuneConfig& c,
                                                               std::unique_ptr<data::Tokenizer> tokenizer,
                                                               TaskSplits splits) {
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(c);
  if (!spec.ok()) return spec.status();
  if (spec->kind != tasks::TaskKind::kSingle && spec->kind != tasks::TaskKind::kPair &&
      spec->kind != tasks::TaskKind::kRegression) {
    return absl::InvalidArgumentError(absl::StrCat("FinetuneConfig.task: ", spec->name, " is a ",
                                                   tasks::TaskKindName(spec->kind), " task, not a sentence task"));
  }
  const std::string eval_split = EvalSplit(c);
  if (splits == TaskSplits::kNone) {
    return MakeSentenceTask(c, *std::move(spec), std::move(tokenizer), eval_split, {}, {}, {});
  }
  tasks::ReadStats stats;
  absl::StatusOr<std::vector<tasks::SentenceExample>> train = ReadSplit(c, *spec, "train", &stats);
  if (!train.ok()) return train.status();
  absl::StatusOr<std::vector<tasks::SentenceExample>> dev = ReadSplit(c, *spec, eval_split, &stats);
  if (!dev.ok()) return dev.status();
  absl::StatusOr<std::vector<tasks::SequenceFeature>> train_features =
      tasks::SentenceFeatures(*train, *tokenizer, c.max_seq_length());
  if (!train_features.ok()) return train_features.status();
  absl::StatusOr<std::vector<tasks::SequenceFeature>> dev_features =
      tasks::SentenceFeatures(*dev, *tokenizer, c.max_seq_length());
  if (!dev_features.ok()) return dev_features.status();
  const bool regression = spec->kind == tasks::TaskKind::kRegression;
  std::vector<SentenceSplit> extra;  // the second eval split first, if any, then the tests
  const std::optional<std::string> second = SecondEvalSplit(c, *spec);
  std::vector<std::string> extra_names = PresentTestSplits(c, *spec);
  if (second.has_value()) extra_names.insert(extra_names.begin(), *second);
  for (const std::string& name : extra_names) {
    absl::StatusOr<std::vector<tasks::SentenceExample>> examples = ReadSplit(c, *spec, name, &stats);
    if (!examples.ok()) return examples.status();
    absl::StatusOr<SentenceSplit> split =
        FeaturiseSplit(name, *std::move(examples), *tokenizer, c.max_seq_length(), regression);
    if (!split.ok()) return split.status();
    extra.push_back(*std::move(split));
  }
  auto task = std::make_unique<SentenceTask>(c, *std::move(spec), std::move(tokenizer), eval_split,
                                             *std::move(train_features), *std::move(dev_features), *std::move(dev));
  for (SentenceSplit& split : extra) {
    if (second.has_value() && split.name == *second) {
      task->AddSecondEvalSplit(std::move(split));
    } else {
      task->AddTestSplit(std::move(split));
    }
  }
  task->AddReadStats(stats);
  return task;
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

}  // namespace cloze
