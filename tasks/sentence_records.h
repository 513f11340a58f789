// Sentence (pair) records as a file holds them, before labels are interpreted: the common
// middle of the TSV and JSON Lines readers. Internal to tasks/; the public readers are
// glue_tasks.h and generic_task.h.
#ifndef CLOZE_TASKS_SENTENCE_RECORDS_H_
#define CLOZE_TASKS_SENTENCE_RECORDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/read_options.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

struct SentenceRecord {
  int64_t line = 0;  // 1-based
  std::string id;
  std::string text_a;
  std::optional<std::string> text_b;
  std::optional<std::string> label;  // absent: an unlabelled (test) record
};

// A column of a TSV file, or a field of a JSON line: by header name, or (TSV files
// without a header only) by 0-based position.
struct FieldRef {
  std::string name;
  int index = -1;
  std::string Describe() const;  // "column 'sentence'" / "column 3"
};

struct SentenceLayout {
  bool has_header = true;  // TSV only; JSON Lines always find fields by name
  int num_columns = 0;     // TSV without a header: the exact column count of every line
  FieldRef text_a;
  std::optional<FieldRef> text_b, label, id;
  // true: a record without the label field is unlabelled rather than an error (test splits;
  // TSV: the header has no label column).
  bool label_optional = false;
  bool json_lines = false;  // errors say "field 'x'" instead of "column 'x'"
};

// Reads a TSV file (raw tab-split lines: no CSV quoting, so a `"` is an ordinary character;
// a UTF-8 BOM and CRLF line ends are accepted; blank lines at the end are ignored). With a
// header, every line must have as many columns as the header, and the layout's names must
// be in it. Errors name path, 1-based line and column.
absl::StatusOr<std::vector<SentenceRecord>> ReadTsvRecords(const std::string& path,
                                                           const SentenceLayout& layout,
                                                           const ReadOptions& options,
                                                           ReadStats* stats);

// Reads JSON Lines: one object per line with string fields (labels may also be numbers).
// Blank lines are ignored.
absl::StatusOr<std::vector<SentenceRecord>> ReadJsonLinesRecords(const std::string& path,
                                                                 const SentenceLayout& layout,
                                                                 const ReadOptions& options,
                                                                 ReadStats* stats);

// Interprets the records' labels by `spec` (class index, or score for regression; a score
// outside the spec's range or a label outside its set is an error naming path, line and
// `layout.label`). guid is "<split>-<line>". InvalidArgument when no example is left.
absl::StatusOr<std::vector<SentenceExample>> ToExamples(std::vector<SentenceRecord> records,
                                                        const std::string& path,
                                                        const std::string& split,
                                                        const SentenceLayout& layout,
                                                        const TaskSpec& spec,
                                                        const ReadOptions& options,
                                                        ReadStats* stats);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_SENTENCE_RECORDS_H_
