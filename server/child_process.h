// A child process the launcher supervises: started with its output appended to a log file,
// polled without blocking, signalled, and reaped.
#ifndef CLOZE_SERVER_CHILD_PROCESS_H_
#define CLOZE_SERVER_CHILD_PROCESS_H_

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cloze {

// Set in every child's environment: a cloze process that finds it calls
// DieWithParentIfAsked (cli/main.cc), and mpirun passes it on to its ranks (server/launcher.cc).
inline constexpr char kDieWithParentVariable[] = "CLOZE_DIE_WITH_PARENT";

// When kDieWithParentVariable is set: this process gets SIGKILL when its parent dies (a
// worker rank when its mpirun does), and dies at once if it has already.
void DieWithParentIfAsked();

// Which of the supervisor's open descriptors a child keeps. Descriptors opened with
// O_CLOEXEC never reach a child; the others do unless the child is started kStandardOnly.
enum class ChildDescriptors {
  // Every descriptor without O_CLOEXEC: the children of `cloze launch` (coordinator, workers,
  // parameter servers) keep its run.lock, so the job's folder stays locked while any of them
  // runs (util/run_dir_lock.h).
  kInherited,
  // Only stdin, stdout and stderr: a side job that is not part of the job and must not hold
  // its locks (the prober, cli/probe_sidecar.h).
  kStandardOnly,
};

class ChildProcess {
 public:
  // Starts argv[0] (a path, or a name looked up on PATH) with `argv`, the parent's
  // environment plus `extra_env` ("NAME=value") and kDieWithParentVariable, stdin from
  // /dev/null and stdout and stderr appended to `log_file`, SIGPIPE at its default. The child
  // is SIGKILLed when the thread that started it exits (PR_SET_PDEATHSIG): start children
  // from a thread that lives as long as their supervisor (the launcher's). Nothing a
  // supervisor started outlives it, even when it is SIGKILLed. `descriptors`: which of the
  // supervisor's open descriptors it keeps. Errors name the program and the log file.
  static absl::StatusOr<ChildProcess> Start(const std::vector<std::string>& argv, const std::string& log_file,
                                            const std::vector<std::string>& extra_env = {},
                                            ChildDescriptors descriptors = ChildDescriptors::kInherited);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  // Kills (SIGKILL) and reaps a child still running: nothing outlives its supervisor.
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  bool running() const { return pid_ > 0 && !status_.has_value(); }

  // The exit status once it has exited: its code, or 128 + the signal that killed it.
  // Never blocks.
  std::optional<int> Poll();
  void Signal(int signal);
  // Signals, then waits up to `grace` for it to exit, then SIGKILLs it. Returns its status.
  int Stop(int signal, absl::Duration grace);

  // What this child wrote to its log (appended to across restarts) since it started, as a
  // failure's cause: the lines in which a cloze process words its errors ("cloze worker:
  // ...", whole, at most `lines` of the last), or without any its last `lines` lines.
  std::string OwnErrorLines(int lines = 8) const;

 private:
  ChildProcess(pid_t pid, std::string name, std::string log_file, int64_t log_start)
      : pid_(pid), name_(std::move(name)), log_file_(std::move(log_file)), log_start_(log_start) {}

  pid_t pid_ = -1;
  std::string name_;
  std::string log_file_;
  int64_t log_start_ = 0;  // the log's size when the child started
  std::optional<int> status_;
};

// Whether process `pid` is `ancestor` or runs under it (its parent, its parent's parent...),
// read from /proc: a process a supervisor may kill although it did not start it directly
// (a rank under mpirun).
bool IsSameOrDescendantOf(pid_t pid, pid_t ancestor);

}  // namespace cloze

#endif  // CLOZE_SERVER_CHILD_PROCESS_H_
