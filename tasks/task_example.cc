#include "tasks/task_example.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cloze::tasks {

const char* TaskKindName(TaskKind kind) {
  switch (kind) {
    case TaskKind::kSingle: return "single";
    case TaskKind::kPair: return "pair";
    case TaskKind::kRegression: return "regression";
    case TaskKind::kTagging: return "tagging";
    case TaskKind::kSpan: return "span";
  }
  return "unknown";
}

absl::StatusOr<int> TaskSpec::LabelIndex(const std::string& label) const {
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] == label) return static_cast<int>(i);
  }
  return absl::NotFoundError(absl::StrCat("label '", label, "' is not one of the task's labels {",
                                          absl::StrJoin(labels, ", "), "}"));
}

}  // namespace cloze::tasks
