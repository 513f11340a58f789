#include "tasks/glue_tasks.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "tasks/sentence_records.h"

namespace cloze::tasks {
namespace {

FieldRef Named(const char* name) { return FieldRef{name, -1}; }

struct GlueTask {
  TaskSpec spec;
  std::vector<std::string> splits;
  SentenceLayout labelled;  // train and dev
  SentenceLayout test;
};

// A labelled layout by header names; its test twin is the same without the label.
GlueTask Task(TaskSpec spec, const char* id, const char* text_a, const char* text_b,
              const char* label) {
  GlueTask task;
  task.splits = {"train", "dev", "test"};
  task.labelled.text_a = Named(text_a);
  if (text_b != nullptr) task.labelled.text_b = Named(text_b);
  if (id != nullptr) task.labelled.id = Named(id);
  task.test = task.labelled;
  task.labelled.label = Named(label);
  task.spec = std::move(spec);
  return task;
}

TaskSpec Spec(const char* name, TaskKind kind, std::vector<std::string> labels,
              std::vector<std::string> metrics) {
  TaskSpec spec;
  spec.name = name;
  spec.kind = kind;
  spec.labels = std::move(labels);
  spec.metrics = std::move(metrics);
  return spec;
}

// Column names and labels follow GLUE's files and the reference processors (GLUE's
// baseline, Hugging Face's glue processors and datasets script).
const std::vector<GlueTask>& Tasks() {
  static const std::vector<GlueTask>* tasks = [] {
    auto* all = new std::vector<GlueTask>;
    const std::vector<std::string> binary = {"0", "1"};
    const std::vector<std::string> entailment = {"entailment", "not_entailment"};

    GlueTask cola = Task(Spec("CoLA", TaskKind::kSingle, binary, {"matthews_corrcoef"}), "index",
                         "sentence", nullptr, "label");
    // train/dev: no header; source, label, original annotation, sentence.
    cola.labelled = SentenceLayout{};
    cola.labelled.has_header = false;
    cola.labelled.num_columns = 4;
    cola.labelled.label = FieldRef{"", 1};
    cola.labelled.text_a = FieldRef{"", 3};
    all->push_back(std::move(cola));

    GlueTask sst2 = Task(Spec("SST-2", TaskKind::kSingle, binary, {"accuracy"}), nullptr,
                         "sentence", nullptr, "label");
    sst2.test.id = Named("index");
    all->push_back(std::move(sst2));

    GlueTask mrpc = Task(Spec("MRPC", TaskKind::kPair, binary, {"f1", "accuracy"}), nullptr,
                         "#1 String", "#2 String", "Quality");
    mrpc.test.id = Named("index");
    all->push_back(std::move(mrpc));

    GlueTask stsb = Task(Spec("STS-B", TaskKind::kRegression, {}, {"pearson", "spearman"}),
                         "index", "sentence1", "sentence2", "score");
    stsb.spec.min_score = 0.0;
    stsb.spec.max_score = 5.0;
    all->push_back(std::move(stsb));

    all->push_back(Task(Spec("QQP", TaskKind::kPair, binary, {"f1", "accuracy"}), "id",
                        "question1", "question2", "is_duplicate"));

    GlueTask mnli = Task(Spec("MNLI", TaskKind::kPair, {"contradiction", "entailment", "neutral"},
                              {"accuracy"}),
                         "index", "sentence1", "sentence2", "gold_label");
    mnli.splits = {"train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched"};
    all->push_back(std::move(mnli));

    all->push_back(Task(Spec("QNLI", TaskKind::kPair, entailment, {"accuracy"}), "index",
                        "question", "sentence", "label"));
    all->push_back(Task(Spec("RTE", TaskKind::kPair, entailment, {"accuracy"}), "index",
                        "sentence1", "sentence2", "label"));
    all->push_back(Task(Spec("WNLI", TaskKind::kPair, binary, {"accuracy"}), "index",
                        "sentence1", "sentence2", "label"));
    return all;
  }();
  return *tasks;
}

std::string Canonical(absl::string_view name) {
  return absl::AsciiStrToLower(absl::StrReplaceAll(name, {{"-", ""}, {"_", ""}}));
}

absl::StatusOr<const GlueTask*> FindTask(absl::string_view name) {
  for (const GlueTask& task : Tasks()) {
    if (Canonical(task.spec.name) == Canonical(name)) return &task;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown GLUE task '", name, "' (known: ",
                                                 absl::StrJoin(GlueTaskNames(), ", "), ")"));
}

}  // namespace

std::vector<std::string> GlueTaskNames() {
  std::vector<std::string> names;
  for (const GlueTask& task : Tasks()) names.push_back(task.spec.name);
  return names;
}

absl::StatusOr<TaskSpec> GlueTaskSpec(const std::string& name) {
  absl::StatusOr<const GlueTask*> task = FindTask(name);
  if (!task.ok()) return task.status();
  return (*task)->spec;
}

absl::StatusOr<std::vector<std::string>> GlueSplits(const std::string& name) {
  absl::StatusOr<const GlueTask*> task = FindTask(name);
  if (!task.ok()) return task.status();
  return (*task)->splits;
}

absl::StatusOr<std::vector<SentenceExample>> ReadGlueSplit(const std::string& task_dir,
                                                           const std::string& task_name,
                                                           const std::string& split,
                                                           const ReadOptions& options,
                                                           ReadStats* stats) {
  absl::StatusOr<const GlueTask*> task = FindTask(task_name);
  if (!task.ok()) return task.status();
  const std::vector<std::string>& splits = (*task)->splits;
  if (std::find(splits.begin(), splits.end(), split) == splits.end()) {
    return absl::InvalidArgumentError(absl::StrCat("GLUE task ", (*task)->spec.name,
                                                   " has no split '", split, "' (it has: ",
                                                   absl::StrJoin(splits, ", "), ")"));
  }
  const SentenceLayout& layout =
      absl::StartsWith(split, "test") ? (*task)->test : (*task)->labelled;
  const std::string path = absl::StrCat(task_dir, "/", split, ".tsv");
  ReadStats file_stats;  // this file's alone, for its messages
  absl::StatusOr<std::vector<SentenceRecord>> records =
      ReadTsvRecords(path, layout, options, &file_stats);
  if (!records.ok()) return records.status();
  absl::StatusOr<std::vector<SentenceExample>> examples = ToExamples(
      *std::move(records), path, split, layout, (*task)->spec, options, &file_stats);
  if (examples.ok()) stats->Add(file_stats);
  return examples;
}

}  // namespace cloze::tasks
