// SQuAD-format question answering files (SQuAD v1.1 and v2.0; CMRC 2018 uses the same
// format): {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question",
// "answers": [{"text", "answer_start"}], "is_impossible", "plausible_answers"}]}]}]}.
// `.xz` files are read transparently.
#ifndef CLOZE_TASKS_SQUAD_H_
#define CLOZE_TASKS_SQUAD_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/read_options.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

// Reads every question of `path`, in file order. answer_start counts Unicode code points
// (Python string indices), and each answer (plausible ones too) must be that text at that
// offset of the context; QaAnswer::byte_start is the same offset in UTF-8 bytes.
//
// Errors: NotFound for a missing file; InvalidArgument naming the file for JSON that does
// not parse (and the line where it stops parsing: "FILE:LINE: not valid JSON: why") or
// lacks "data", and naming the file, the question id and the field
// (e.g. "answers[1].answer_start") for a question with a missing or mistyped field, an
// answer_start outside the context, or an answer whose text is not at its offset; also a
// file without questions. With skip_bad_lines a bad question is skipped and counted in
// *stats (skipped), and ReadStats::lines stays 0 (JSON has no line structure here).
absl::StatusOr<std::vector<QaExample>> ReadSquad(const std::string& path, const ReadOptions& options,
                                                 ReadStats* stats);

// The span task's spec: SQuAD's metrics, "exact_match" and "f1".
TaskSpec SquadTaskSpec(const std::string& name);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_SQUAD_H_
