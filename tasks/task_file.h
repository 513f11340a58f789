// Whole-file reads for task data, with .xz files decompressed transparently (liblzma).
//
// Task files are read whole: the largest common ones (MNLI train, SQuAD 2.0 train) are a
// few hundred MB at most, and every reader needs random access to report line numbers.
#ifndef CLOZE_TASKS_TASK_FILE_H_
#define CLOZE_TASKS_TASK_FILE_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cloze::tasks {

// The bytes of `path`, decompressed when the name ends in ".xz" (concatenated .xz streams
// included). NotFound when the file cannot be opened; InvalidArgument when it is not valid
// xz (truncated, corrupt); DataLoss when a read fails midway. Messages name the path.
absl::StatusOr<std::string> ReadTaskFile(const std::string& path);

// Decompresses an in-memory .xz file; `path` only names it in errors.
absl::StatusOr<std::string> DecompressXz(absl::string_view compressed, const std::string& path);

// `text` without a leading UTF-8 byte-order mark.
absl::string_view StripUtf8Bom(absl::string_view text);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_TASK_FILE_H_
