// Errors of the file system, said the same way everywhere: the path, what was being done,
// and the system's reason (strerror), e.g. "run/metrics.jsonl: write: No space left on
// device". The conditions no restart mends (a full device or quota, a read-only file
// system, permission denied) carry kExitCannotWrite (util/exit_status.h), so that a job
// stops at once with the cause instead of being restarted into the same wall.
#ifndef CLOZE_UTIL_FILE_ERROR_H_
#define CLOZE_UTIL_FILE_ERROR_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloze::util {

// `error` is an errno value (not 0). Codes: NotFound (ENOENT), AlreadyExists (EEXIST,
// ENOTEMPTY), ResourceExhausted (ENOSPC, EDQUOT), PermissionDenied (EACCES, EPERM, EROFS),
// else Internal.
absl::Status FileError(absl::string_view path, absl::string_view operation, int error);

// Whether `error` (an errno value) means the storage refuses writes until someone acts.
bool IsStorageRefusal(int error);

}  // namespace cloze::util

#endif  // CLOZE_UTIL_FILE_ERROR_H_
