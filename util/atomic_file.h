// Small text files (configs, results, port numbers) written so a reader never sees half of
// one: into PATH.tmp, then renamed over PATH.
#ifndef CLOZE_UTIL_ATOMIC_FILE_H_
#define CLOZE_UTIL_ATOMIC_FILE_H_

#include <string>

#include "absl/status/status.h"

namespace cloze::util {

// PermissionDenied when PATH.tmp cannot be created; DataLoss when writing or renaming fails
// (PATH then keeps its old contents). Not synced to disk: callers that must survive a
// power cut use the checkpoint file system (checkpoint/checkpoint_file_system.h).
absl::Status WriteTextFileAtomically(const std::string& path, const std::string& text);

}  // namespace cloze::util

#endif  // CLOZE_UTIL_ATOMIC_FILE_H_
