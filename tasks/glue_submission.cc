#include "tasks/glue_submission.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "tasks/glue_tasks.h"

namespace cloze::tasks {

absl::StatusOr<std::string> GlueSubmissionFileName(const std::string& task, const std::string& split) {
  absl::StatusOr<TaskSpec> spec = GlueTaskSpec(task);
  if (!spec.ok()) return spec.status();
  if (spec->name == "MNLI") {
    if (split == "test_matched") return std::string("MNLI-m.tsv");
    if (split == "test_mismatched") return std::string("MNLI-mm.tsv");
    return absl::InvalidArgumentError(
        absl::StrCat("MNLI's test splits are test_matched and test_mismatched, not \"", split, "\""));
  }
  if (split != "test") {
    return absl::InvalidArgumentError(absl::StrCat(spec->name, "'s test split is \"test\", not \"", split, "\""));
  }
  return absl::StrCat(spec->name, ".tsv");
}

absl::StatusOr<std::string> GlueSubmissionText(const TaskSpec& spec, const std::vector<SentenceExample>& examples,
                                               const std::vector<int>& predicted_labels,
                                               const std::vector<double>& predicted_scores) {
  const bool regression = spec.kind == TaskKind::kRegression;
  const size_t predictions = regression ? predicted_scores.size() : predicted_labels.size();
  if (predictions != examples.size()) {
    return absl::InvalidArgumentError(absl::StrCat(spec.name, " submission: ", predictions, " predictions for ",
                                                   examples.size(), " test examples"));
  }
  std::string text = "index\tprediction\n";
  for (size_t i = 0; i < examples.size(); ++i) {
    const SentenceExample& example = examples[i];
    if (example.id.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(spec.name, " submission: the example of line ", example.line, " has no index"));
    }
    std::string prediction;
    if (regression) {
      const double score = predicted_scores[i];
      if (!std::isfinite(score)) {
        return absl::InvalidArgumentError(
            absl::StrCat(spec.name, " submission: the score of line ", example.line, " is not finite"));
      }
      prediction = absl::StrFormat("%.3f", std::clamp(score, 0.0, 5.0));
    } else {
      const int label = predicted_labels[i];
      if (label < 0 || label >= static_cast<int>(spec.labels.size())) {
        return absl::InvalidArgumentError(absl::StrCat(spec.name, " submission: label index ", label, " of line ",
                                                       example.line, " is outside the task's ",
                                                       spec.labels.size(), " labels"));
      }
      prediction = spec.labels[label];
    }
    absl::StrAppend(&text, example.id, "\t", prediction, "\n");
  }
  return text;
}

}  // namespace cloze::tasks
