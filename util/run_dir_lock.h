// One job per run folder: <run_dir>/run.lock, locked with flock(2) by the process that runs
// the job there (cloze train, cloze launch, cloze coordinator), for as long as it runs.
//
// The lock file says who holds it ("host pid command"), so that a second job is refused
// with the holder's host and PID. The kernel drops a lock when the last process holding it
// exits, so the lock of a dead process is taken over with nothing to clean up. A lock taken
// with `inherited_by_children` (cloze launch) is held by the processes the holder starts as
// well: a job whose launcher was killed keeps its folder until its coordinator and workers
// are gone. Those children may carry on in the folder (HeldByParent), being part of the job.
// flock on network file systems is only as good as the file system's support for it.
//
// Another lock file in the folder (`lock_file_name`) locks a side job the same way without
// touching the training lock: `cloze probe --follow` holds probe.lock while training holds
// run.lock, so one prober follows a run at a time.
#ifndef CLOZE_UTIL_RUN_DIR_LOCK_H_
#define CLOZE_UTIL_RUN_DIR_LOCK_H_

#include <string>

#include "absl/status/statusor.h"

namespace cloze {

inline constexpr char kRunDirLockFileName[] = "run.lock";

class RunDirLock {
 public:
  // Creates run_dir when missing and locks it for `command` (e.g. "cloze train").
  // FailedPrecondition naming the folder and the holder's host, PID and command when
  // another job holds it; other errors name the lock file and the system's reason.
  static absl::StatusOr<RunDirLock> Acquire(const std::string& run_dir, const std::string& command,
                                            bool inherited_by_children = false,
                                            const std::string& lock_file_name = kRunDirLockFileName);

  // Whether run_dir's lock is held by this process's parent on this host (a launcher that
  // started this process as part of its job).
  static bool HeldByParent(const std::string& run_dir);

  RunDirLock(RunDirLock&& other) noexcept;
  RunDirLock& operator=(RunDirLock&& other) noexcept;
  RunDirLock(const RunDirLock&) = delete;
  RunDirLock& operator=(const RunDirLock&) = delete;
  ~RunDirLock();  // unlocks (the file stays: removing it would race with a new holder)

 private:
  explicit RunDirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cloze

#endif  // CLOZE_UTIL_RUN_DIR_LOCK_H_
