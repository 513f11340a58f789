// Small text files (configs, results, port numbers, tokens) written so a reader never sees
// half of one: into PATH.tmp, then renamed over PATH.
#ifndef CLOZE_UTIL_ATOMIC_FILE_H_
#define CLOZE_UTIL_ATOMIC_FILE_H_

#include <sys/types.h>

#include <string>

#include "absl/status/status.h"

namespace cloze::util {

// Errors name the path and the system's reason (util/file_error.h: a full or read-only
// file system carries kExitCannotWrite); PATH then keeps its old contents and PATH.tmp is
// removed. `mode` applies to a newly created file (0600 for secrets). Not synced to disk:
// callers that must survive a power cut use the checkpoint file system
// (checkpoint/checkpoint_file_system.h).
absl::Status WriteTextFileAtomically(const std::string& path, const std::string& text, mode_t mode = 0644);

}  // namespace cloze::util

#endif  // CLOZE_UTIL_ATOMIC_FILE_H_
