// From records to examples: the task's labels applied.
#include "tasks/sentence_records.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace cloze::tasks {
namespace {

// Sets the example's label or score from `text`; the error says what is wrong with it.
absl::Status ApplyLabel(const TaskSpec& spec, const std::string& text, SentenceExample* example) {
  if (spec.kind == TaskKind::kRegression) {
    float score;
    if (!absl::SimpleAtof(text, &score) || !std::isfinite(score)) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a number"));
    }
    if ((spec.min_score && score < *spec.min_score) || (spec.max_score && score > *spec.max_score)) {
      return absl::InvalidArgumentError(absl::StrCat("score ", text, " is outside [",
                                                     spec.min_score.value_or(-INFINITY), ", ",
                                                     spec.max_score.value_or(INFINITY), "]"));
    }
    example->score = score;
    return absl::OkStatus();
  }
  absl::StatusOr<int> index = spec.LabelIndex(text);
  if (!index.ok()) return absl::InvalidArgumentError(index.status().message());
  example->label = *index;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<SentenceExample>> ToExamples(std::vector<SentenceRecord> records,
                                                        const std::string& path,
                                                        const std::string& split,
                                                        const SentenceLayout& layout,
                                                        const TaskSpec& spec,
                                                        const ReadOptions& options,
                                                        ReadStats* stats) {
  std::vector<SentenceExample> examples;
  examples.reserve(records.size());
  for (SentenceRecord& record : records) {
    SentenceExample example;
    example.guid = absl::StrCat(split, "-", record.line);
    example.line = record.line;
    example.id = std::move(record.id);
    example.text_a = std::move(record.text_a);
    example.text_b = std::move(record.text_b);
    if (record.label) {
      absl::Status applied = ApplyLabel(spec, *record.label, &example);
      if (!applied.ok()) {
        std::string error = absl::StrCat(path, ":", record.line, ": ", 
                                         layout.json_lines ? absl::StrCat("field '", layout.label->name, "'")
                                                           : layout.label->Describe(),
                                         ": ", applied.message());
        if (!options.skip_bad_lines) return absl::InvalidArgumentError(error);
        stats->Skip(error);
        continue;
      }
    }
    examples.push_back(std::move(example));
  }
  if (examples.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": no examples", stats->skipped > 0 ? absl::StrCat(" (", stats->skipped, " bad lines skipped)") : ""));
  }
  stats->examples += examples.size();
  return examples;
}

}  // namespace cloze::tasks
