// The nine GLUE tasks, read from their files as GLUE distributes them.
//
// A task's folder holds train.tsv, dev.tsv and test.tsv (MNLI: train.tsv, dev_matched.tsv,
// dev_mismatched.tsv, test_matched.tsv, test_mismatched.tsv). Lines are raw tab-split (no
// CSV quoting: a `"` is text, as GLUE's and Hugging Face's readers read them with quoting
// off); a UTF-8 BOM and CRLF ends are accepted. Columns are found by their header names
// (CoLA's train/dev have no header: source, label, original annotation, sentence), and
// every line must have as many columns as the header.
//
// Test splits have no labels: their examples carry no label/score and keep the file's
// `index` (QQP: `id`) in SentenceExample::id for submission files.
#ifndef CLOZE_TASKS_GLUE_TASKS_H_
#define CLOZE_TASKS_GLUE_TASKS_H_

#include <string>

#include <vector>

#include "absl/status/statusor.h"
#include "tasks/read_options.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

// "CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI".
std::vector<std::string> GlueTaskNames();

// The task's spec: kind, labels in GLUE's order (as the reference processors list them;
// predictions index into it), and the metrics GLUE reports. Names match case-insensitively
// and with or without the dash ("sst2", "sts-b", "cola"). InvalidArgument naming the known
// tasks for any other name.
absl::StatusOr<TaskSpec> GlueTaskSpec(const std::string& name);

// The task's splits in order: "train", "dev", "test"; MNLI's are "train", "dev_matched",
// "dev_mismatched", "test_matched", "test_mismatched". Each is the file <split>.tsv.
absl::StatusOr<std::vector<std::string>> GlueSplits(const std::string& name);

// Reads one split of a task from `task_dir` (the folder holding its .tsv files). Errors
// (InvalidArgument, naming file, 1-based line and column): an unknown task or split, a
// header without the task's columns, a line with the wrong number of columns, a label
// outside the task's labels, an STS-B score that is not a number in [0, 5], a file with no
// examples. NotFound when the file is missing. With options.skip_bad_lines, bad lines are
// skipped and counted instead. A successful read adds its counts to *stats (so one ReadStats
// can tally several files); a failed one leaves *stats as it was.
absl::StatusOr<std::vector<SentenceExample>> ReadGlueSplit(const std::string& task_dir,
                                                           const std::string& task,
                                                           const std::string& split,
                                                           const ReadOptions& options,
                                                           ReadStats* stats);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_GLUE_TASKS_H_
