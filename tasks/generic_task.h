// A single-sentence or sentence-pair task in the user's own files: TSV with a header and
// named columns, or JSON Lines with named fields (CLUE's AFQMC/TNEWS style:
// {"sentence1": ..., "sentence2": ..., "label": ...}).
//
// The format follows the file name (an .xz suffix aside): ".jsonl" or ".json" is JSON
// Lines (CLUE names its JSON Lines files .json), anything else is TSV (read like GLUE's:
// raw tab-split lines, no quoting, BOM and CRLF accepted).
#ifndef CLOZE_TASKS_GENERIC_TASK_H_
#define CLOZE_TASKS_GENERIC_TASK_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/read_options.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

struct GenericTaskFormat {
  std::string text_a_column = "sentence1";
  std::string text_b_column;  // empty: a single-sentence task
  std::string label_column = "label";
  std::string id_column;      // optional: kept in SentenceExample::id
  bool regression = false;    // labels are real-valued scores
  // The classes in index order. Empty (classification only): collected from the train file.
  std::vector<std::string> labels;
  // Left at this default, a regression task reports {"pearson", "spearman"} instead.
  std::vector<std::string> metrics = {"accuracy"};
};

// The task's spec. Classification labels are `format.labels` when given, otherwise the
// distinct labels of `train_path`, sorted: numerically when every label is an integer
// ("2" before "10"), otherwise bytewise, so the order (and every index) depends only on
// the set of labels, not on the file's order. Errors as ReadGenericSplit's.
absl::StatusOr<TaskSpec> GenericTaskSpec(const std::string& name, const GenericTaskFormat& format,
                                         const std::string& train_path,
                                         const ReadOptions& options);

// Reads one split. A split whose name starts with "test" may lack the label column/field
// (its examples are then unlabelled); elsewhere a missing label is an error. Errors
// (InvalidArgument naming file, 1-based line and column/field): a missing header column,
// a line with the wrong column count, a JSON line that is not an object or lacks a field,
// a label outside spec.labels, a score that is not a number, no examples at all. NotFound
// for a missing file. skip_bad_lines skips and counts bad lines instead. A successful read
// adds its counts to *stats; a failed one leaves it as it was.
absl::StatusOr<std::vector<SentenceExample>> ReadGenericSplit(const std::string& path,
                                                              const std::string& split,
                                                              const TaskSpec& spec,
                                                              const GenericTaskFormat& format,
                                                              const ReadOptions& options,
                                                              ReadStats* stats);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_GENERIC_TASK_H_
