#include "tasks/generic_task.h"

#include <algorithm>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tasks/sentence_records.h"

namespace cloze::tasks {
namespace {

bool IsJsonLines(absl::string_view path) {
  absl::ConsumeSuffix(&path, ".xz");
  return absl::EndsWith(path, ".jsonl") || absl::EndsWith(path, ".json");
}

SentenceLayout Layout(const std::string& path, const GenericTaskFormat& format, bool label_optional) {
  SentenceLayout layout;
  layout.json_lines = IsJsonLines(path);
  layout.text_a = FieldRef{format.text_a_column, -1};
  if (!format.text_b_column.empty()) layout.text_b = FieldRef{format.text_b_column, -1};
  layout.label = FieldRef{format.label_column, -1};
  if (!format.id_column.empty()) layout.id = FieldRef{format.id_column, -1};
  layout.label_optional = label_optional;
  return layout;
}

absl::StatusOr<std::vector<SentenceRecord>> ReadRecords(const std::string& path,
                                                        const SentenceLayout& layout,
                                                        const ReadOptions& options,
                                                        ReadStats* stats) {
  return layout.json_lines ? ReadJsonLinesRecords(path, layout, options, stats)
                           : ReadTsvRecords(path, layout, options, stats);
}

// Integers in numeric order when every label is one, otherwise bytewise order.
void SortLabels(std::vector<std::string>* labels) {
  std::vector<std::pair<int64_t, std::string>> numeric;
  for (const std::string& label : *labels) {
    int64_t value;
    if (!absl::SimpleAtoi(label, &value)) {
      std::sort(labels->begin(), labels->end());
      return;
    }
    numeric.emplace_back(value, label);
  }
  std::sort(numeric.begin(), numeric.end());
  for (size_t i = 0; i < numeric.size(); ++i) (*labels)[i] = numeric[i].second;
}

}  // namespace

absl::StatusOr<TaskSpec> GenericTaskSpec(const std::string& name, const GenericTaskFormat& format,
                                         const std::string& train_path,
                                         const ReadOptions& options) {
  TaskSpec spec;
  spec.name = name;
  spec.kind = format.regression             ? TaskKind::kRegression
              : format.text_b_column.empty() ? TaskKind::kSingle
                                             : TaskKind::kPair;
  spec.metrics = format.metrics;
  if (format.regression) {
    if (spec.metrics == GenericTaskFormat().metrics) spec.metrics = {"pearson", "spearman"};
    return spec;
  }
  if (!format.labels.empty()) {
    spec.labels = format.labels;
    return spec;
  }
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceRecord>> records =
      ReadRecords(train_path, Layout(train_path, format, false), options, &stats);
  if (!records.ok()) return records.status();
  std::set<std::string> distinct;
  for (const SentenceRecord& record : *records) distinct.insert(*record.label);
  if (distinct.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(train_path, ": no labels to collect"));
  }
  spec.labels.assign(distinct.begin(), distinct.end());
  SortLabels(&spec.labels);
  return spec;
}

absl::StatusOr<std::vector<SentenceExample>> ReadGenericSplit(const std::string& path,
                                                              const std::string& split,
                                                              const TaskSpec& spec,
                                                              const GenericTaskFormat& format,
                                                              const ReadOptions& options,
                                                              ReadStats* stats) {
  const SentenceLayout layout = Layout(path, format, absl::StartsWith(split, "test"));
  ReadStats file_stats;  // this file's alone, for its messages
  absl::StatusOr<std::vector<SentenceRecord>> records = ReadRecords(path, layout, options, &file_stats);
  if (!records.ok()) return records.status();
  absl::StatusOr<std::vector<SentenceExample>> examples =
      ToExamples(*std::move(records), path, split, layout, spec, options, &file_stats);
  if (examples.ok()) stats->Add(file_stats);
  return examples;
}

}  // namespace cloze::tasks
