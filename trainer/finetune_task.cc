#include "trainer/finetune_task.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "util/atomic_file.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "eval/classification.h"
#include "eval/correlation.h"
#include "nlohmann/json.hpp"
#include "tasks/generic_task.h"
#include "tasks/glue_tasks.h"
#include "trainer/task_batch_source.h"

namespace cloze {
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

std::string Number(double v) { return std::isfinite(v) ? absl::StrFormat("%.17g", v) : "null"; }


}  // namespace

absl::StatusOr<tasks::TaskSpec> FinetuneTaskSpec(const FinetuneConfig& c) {
  if (!IsGeneric(c)) {
    absl::StatusOr<tasks::TaskSpec> spec = tasks::GlueTaskSpec(c.task());
    if (!spec.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("FinetuneConfig.task: ", spec.status().message(), ", or \"generic\""));
    }
    return spec;
  }
  return tasks::GenericTaskSpec("generic", GenericFormat(c), GenericPath(c, c.train_file(), "train.tsv"), {});
}

absl::StatusOr<std::vector<tasks::SentenceExample>> ReadFinetuneFile(const FinetuneConfig& c,
                                                                     const tasks::TaskSpec& spec,
                                                                     const std::string& path) {
  const fs::path file(path);
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

absl::StatusOr<FinetuneSplitSizes> CountFinetuneExamples(const FinetuneConfig& c) {
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(c);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::vector<tasks::SentenceExample>> train = ReadSplit(c, *spec, "train");
  if (!train.ok()) return train.status();
  absl::StatusOr<std::vector<tasks::SentenceExample>> dev = ReadSplit(c, *spec, EvalSplit(c));
  if (!dev.ok()) return dev.status();
  return FinetuneSplitSizes{.train = static_cast<int64_t>(train->size()), .eval = static_cast<int64_t>(dev->size())};
}

absl::StatusOr<FinetuneTask> LoadFinetuneTask(const FinetuneConfig& c, int model_vocab_size) {
  FinetuneTask task;
  absl::StatusOr<tasks::TaskSpec> spec = FinetuneTaskSpec(c);
  if (!spec.ok()) return spec.status();
  task.spec = *std::move(spec);
  if (task.spec.kind != tasks::TaskKind::kSingle && task.spec.kind != tasks::TaskKind::kPair &&
      task.spec.kind != tasks::TaskKind::kRegression) {
    return absl::InvalidArgumentError(absl::StrCat("FinetuneConfig.task: ", task.spec.name, " is a ",
                                                   tasks::TaskKindName(task.spec.kind), " task, not a sentence task"));
  }
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(c.tokenizer());
  if (!tokenizer.ok()) return tokenizer.status();
  task.tokenizer = *std::move(tokenizer);
  if (task.tokenizer->vocab_size() != model_vocab_size) {
    return absl::FailedPreconditionError(absl::StrCat("the tokenizer ", c.tokenizer(), " has ", task.tokenizer->vocab_size(),
                                                      " ids but the model's vocab_size is ", model_vocab_size));
  }
  absl::StatusOr<std::vector<tasks::SentenceExample>> train = ReadSplit(c, task.spec, "train");
  if (!train.ok()) return train.status();
  task.eval_split = EvalSplit(c);
  absl::StatusOr<std::vector<tasks::SentenceExample>> dev = ReadSplit(c, task.spec, task.eval_split);
  if (!dev.ok()) return dev.status();
  absl::StatusOr<std::vector<tasks::SequenceFeature>> train_features =
      tasks::SentenceFeatures(*train, *task.tokenizer, c.max_seq_length());
  if (!train_features.ok()) return train_features.status();
  absl::StatusOr<std::vector<tasks::SequenceFeature>> dev_features =
      tasks::SentenceFeatures(*dev, *task.tokenizer, c.max_seq_length());
  if (!dev_features.ok()) return dev_features.status();
  task.train = *std::move(train_features);
  task.dev = *std::move(dev_features);
  task.dev_examples = *std::move(dev);
  return task;
}

absl::StatusOr<TaskEvaluation> EvaluateTask(TrainingBackend& model, const FinetuneTask& task, int batch_size,
                                            int64_t step) {
  TaskEvaluation out;
  out.step = step;
  const bool regression = task.regression();
  double loss_sum = 0;
  int64_t loss_count = 0;
  std::vector<int> gold_labels;
  std::vector<double> gold_scores;
  for (size_t first = 0; first < task.dev.size(); first += batch_size) {
    std::vector<const tasks::SequenceFeature*> rows;
    for (size_t i = first; i < std::min(task.dev.size(), first + batch_size); ++i) rows.push_back(&task.dev[i]);
    absl::StatusOr<Batch> batch = CollateTaskFeatures(rows, task.tokenizer->pad_id(), regression);
    if (!batch.ok()) return absl::InvalidArgumentError(absl::StrCat(task.eval_split, " split: ", batch.status().message()));
    absl::StatusOr<Losses> losses = model.Forward(*batch, StepOptions{});
    if (!losses.ok()) return losses.status();
    loss_sum += losses->terms[0].sum;
    loss_count += losses->terms[0].count;
    absl::StatusOr<std::vector<float>> logits = model.Logits();
    if (!logits.ok()) return logits.status();
    const size_t width = logits->size() / rows.size();
    for (size_t r = 0; r < rows.size(); ++r) {
      std::vector<float> row(logits->begin() + r * width, logits->begin() + (r + 1) * width);
      if (regression) {
        out.predicted_scores.push_back(row[0]);
        gold_scores.push_back(*rows[r]->score);
      } else {
        out.predicted_labels.push_back(static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin()));
        gold_labels.push_back(*rows[r]->label);
      }
      out.logits.push_back(std::move(row));
    }
  }
  out.loss = loss_count > 0 ? loss_sum / loss_count : 0;
  if (regression) {
    const auto& p = out.predicted_scores;
    out.degenerate = std::all_of(p.begin(), p.end(), [&](double v) { return v == p.front(); });
  } else {
    const auto& p = out.predicted_labels;
    out.degenerate = std::all_of(p.begin(), p.end(), [&](int v) { return v == p.front(); });
  }
  for (const std::string& name : task.spec.metrics) {
    absl::StatusOr<double> value = absl::InvalidArgumentError(absl::StrCat("unknown metric \"", name, "\""));
    if (regression && (name == "pearson" || name == "spearman")) {
      value = out.degenerate ? 0.0
              : name == "pearson" ? eval::PearsonCorrelation(out.predicted_scores, gold_scores)
                                  : eval::SpearmanCorrelation(out.predicted_scores, gold_scores);
    } else if (!regression && name == "accuracy") {
      value = eval::Accuracy(gold_labels, out.predicted_labels);
    } else if (!regression && name == "matthews_corrcoef") {
      value = eval::MatthewsCorrelation(gold_labels, out.predicted_labels);
    } else if (!regression && name == "f1") {
      value = eval::BinaryF1(gold_labels, out.predicted_labels, 1);
    }
    if (!value.ok()) return absl::InvalidArgumentError(absl::StrCat(task.spec.name, ": ", value.status().message()));
    out.metrics.emplace_back(name, std::isfinite(*value) ? *value : 0.0);
  }
  return out;
}

std::string TaskEvaluationJson(const TaskEvaluation& e) {
  std::string line = absl::StrCat("{\"step\": ", e.step, ", \"loss\": ", Number(e.loss));
  for (const auto& [name, value] : e.metrics) absl::StrAppend(&line, ", \"", name, "\": ", Number(value));
  return absl::StrCat(line, ", \"degenerate\": ", e.degenerate ? "true" : "false", "}");
}

absl::Status WriteDevPredictions(const std::string& run_dir, const FinetuneTask& task, const TaskEvaluation& e) {
  std::string text;
  for (size_t i = 0; i < task.dev_examples.size(); ++i) {
    const tasks::SentenceExample& x = task.dev_examples[i];
    nlohmann::json j;
    j["guid"] = x.guid;
    j["line"] = x.line;
    if (task.regression()) {
      if (x.score) j["score"] = *x.score;
      j["prediction"] = e.predicted_scores[i];
    } else {
      if (x.label) j["label"] = task.spec.labels[*x.label];
      j["prediction"] = task.spec.labels[e.predicted_labels[i]];
    }
    j["logits"] = e.logits[i];
    absl::StrAppend(&text, j.dump(), "\n");
  }
  return util::WriteTextFileAtomically(absl::StrCat(run_dir, "/predictions_", task.eval_split, ".jsonl"), text);
}

}  // namespace cloze
