// The exit statuses of every cloze process of a job (cloze train, launch, coordinator,
// worker, ps), defined once: a supervisor (cloze launch, a Slurm script, a Kubernetes
// podFailurePolicy) restarts what may succeed next time and gives up at once on what would
// fail the same way again. Values follow BSD sysexits(3) where one fits.
#ifndef CLOZE_UTIL_EXIT_STATUS_H_
#define CLOZE_UTIL_EXIT_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cloze {

inline constexpr int kExitOk = 0;
// Transient or internal (a crash, an I/O error, a lost peer): a restart may succeed.
inline constexpr int kExitFailure = 1;
// Bad flags or configuration (a config field, a dataset the config does not fit or cannot
// find): permanent.
inline constexpr int kExitUsage = 2;
// EX_DATAERR: bad data (a truncated or corrupt shard): permanent.
inline constexpr int kExitDataError = 65;
// EX_NOINPUT: the checkpoint to resume from cannot be loaded and nothing valid can replace
// it (falling back would drop training done): permanent.
inline constexpr int kExitNoCheckpoint = 66;
// EX_CANTCREAT: the run folder's storage refuses what the job must write: the device or
// quota is full (ENOSPC, EDQUOT), the file system is read-only (EROFS), or permission is
// denied (EACCES, EPERM). Permanent until an operator frees space or fixes the folder; the
// job then resumes from its last committed checkpoint. Not EX_IOERR (74): that also names
// I/O errors a restart may mend (EIO from a flaky mount), which stay kExitFailure.
inline constexpr int kExitCannotWrite = 73;
// EX_TEMPFAIL: the job's generation ended because of another member's failure; start this
// one again. Not a failure of its own: supervisors do not count it.
inline constexpr int kExitRestart = 75;

// Whether a process that exited with `exit_status` would fail the same way if restarted.
bool IsPermanentExit(int exit_status);

// "configuration error", "bad data", ... for messages ("" for an unknown status).
std::string ExitStatusMeaning(int exit_status);

// `status` carrying the exit status its process should end with (a payload, kept while the
// status is passed on unchanged; a new status built from its message loses it). OK stays OK.
absl::Status WithExitStatus(absl::Status status, int exit_status);

// `status` with `prefix` put before its message; its code and payloads (the exit status
// among them) kept. For adding context while passing an error on.
absl::Status WithMessagePrefix(const absl::Status& status, absl::string_view prefix);

// `status` with `exit_status` attached when its code says that what was read is itself bad
// (DataLoss, FailedPrecondition, NotFound, InvalidArgument), as for the data a job trains on
// or the checkpoint it resumes from: no restart mends those. Other codes (an I/O error,
// which may pass) are returned as they are.
absl::Status PermanentIfBadInput(absl::Status status, int exit_status);

// The exit status for a process ending with `status`: kExitOk for OK, the one attached by
// WithExitStatus, else kExitFailure.
int ExitStatusOf(const absl::Status& status);

}  // namespace cloze

#endif  // CLOZE_UTIL_EXIT_STATUS_H_
