#include "server/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"

extern char** environ;

namespace cloze {

namespace {

// argv[0] as execve needs it: a path as it is, a bare name looked up on PATH (before the
// fork: the child may only make async-signal-safe calls).
std::string ProgramPath(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  for (const absl::string_view dir : absl::StrSplit(path != nullptr ? path : "/usr/bin:/bin", ':')) {
    const std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;  // execve fails with ENOENT, reported as "cannot start"
}

// Closes descriptors first..last, with close_range(2), or one by one where the kernel lacks
// it (before Linux 5.9). Async-signal-safe: it runs in a forked child before execve.
void CloseRange(unsigned first, unsigned last, long open_max) {
  if (first > last || close_range(first, last, 0) == 0) return;
  for (long fd = first; fd <= static_cast<long>(last) && fd < open_max; ++fd) close(static_cast<int>(fd));
}

// In a forked child: closes every descriptor above stderr but `keep` (the exec error pipe,
// which closes itself on exec).
void CloseAllButStandardAnd(int keep, long open_max) {
  constexpr unsigned kFirst = STDERR_FILENO + 1;
  const unsigned kept = static_cast<unsigned>(keep);
  if (keep < static_cast<int>(kFirst)) return CloseRange(kFirst, ~0U, open_max);
  if (kept > kFirst) CloseRange(kFirst, kept - 1, open_max);
  CloseRange(kept + 1, ~0U, open_max);
}

}  // namespace

void DieWithParentIfAsked() {
  if (std::getenv(kDieWithParentVariable) == nullptr) return;
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) raise(SIGKILL);  // the parent died before the request took effect
}

absl::StatusOr<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv, const std::string& log_file,
                                                 const std::vector<std::string>& extra_env,
                                                 ChildDescriptors descriptors) {
  if (argv.empty()) return absl::InvalidArgumentError("ChildProcess::Start: no program");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const std::string& e : extra_env) env_strings.push_back(e);
  env_strings.push_back(absl::StrCat(kDieWithParentVariable, "=1"));
  std::vector<char*> env;
  for (const std::string& e : env_strings) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);
  const std::string program = ProgramPath(argv[0]);

  const int log_fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return absl::UnavailableError(absl::StrCat("cannot start ", argv[0], ": ", log_file, ": ", std::strerror(errno)));
  }
  const int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  int exec_error_pipe[2];  // closed by a successful exec; carries errno when it fails
  if (null_fd < 0 || pipe2(exec_error_pipe, O_CLOEXEC) != 0) {
    const int error = errno;
    close(log_fd);
    if (null_fd >= 0) close(null_fd);
    return absl::UnavailableError(absl::StrCat("cannot start ", argv[0], ": ", std::strerror(error)));
  }
  std::error_code size_error;
  const std::uintmax_t log_start = std::filesystem::file_size(log_file, size_error);
  const long open_max = sysconf(_SC_OPEN_MAX);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Async-signal-safe calls only until execve. The child dies with this thread of its
    // parent (SIGKILL), so that a supervisor killed by anything leaves nothing running.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    signal(SIGPIPE, SIG_DFL);  // the launcher ignores it; its children must not inherit that
    dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    if (descriptors == ChildDescriptors::kStandardOnly) CloseAllButStandardAnd(exec_error_pipe[1], open_max);
    execve(program.c_str(), args.data(), env.data());
    const int error = errno;
    ssize_t ignored = write(exec_error_pipe[1], &error, sizeof error);
    (void)ignored;
    _exit(127);
  }
  const int fork_error = errno;
  close(log_fd);
  close(null_fd);
  close(exec_error_pipe[1]);
  int exec_error = 0;
  if (pid > 0) {
    ssize_t n;
    do {
      n = read(exec_error_pipe[0], &exec_error, sizeof exec_error);
    } while (n < 0 && errno == EINTR);
    if (n != sizeof exec_error) exec_error = 0;
  }
  close(exec_error_pipe[0]);
  if (pid < 0 || exec_error != 0) {
    if (pid > 0) waitpid(pid, nullptr, 0);
    return absl::UnavailableError(absl::StrCat("cannot start ", argv[0], " (output to ", log_file,
                                               "): ", std::strerror(pid < 0 ? fork_error : exec_error)));
  }
  return ChildProcess(pid, absl::StrJoin(argv.begin(), argv.begin() + std::min<size_t>(argv.size(), 2), " "), log_file,
                      size_error ? 0 : static_cast<int64_t>(log_start));
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      name_(std::move(other.name_)),
      log_file_(std::move(other.log_file_)),
      log_start_(other.log_start_),
      status_(other.status_) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (running()) Stop(SIGKILL, absl::ZeroDuration());
    pid_ = std::exchange(other.pid_, -1);
    name_ = std::move(other.name_);
    log_file_ = std::move(other.log_file_);
    log_start_ = other.log_start_;
    status_ = other.status_;
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (running()) Stop(SIGKILL, absl::ZeroDuration());
}

std::optional<int> ChildProcess::Poll() {
  if (status_.has_value() || pid_ <= 0) return status_;
  int wstatus = 0;
  const pid_t done = waitpid(pid_, &wstatus, WNOHANG);
  if (done == pid_) {
    status_ = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
  } else if (done < 0 && errno == ECHILD) {
    status_ = 255;  // reaped elsewhere: treat as failed
  }
  return status_;
}

void ChildProcess::Signal(int signal) {
  if (running()) kill(pid_, signal);
}

int ChildProcess::Stop(int signal, absl::Duration grace) {
  Signal(signal);
  const absl::Time deadline = absl::Now() + grace;
  while (!Poll().has_value() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  if (!Poll().has_value()) {
    kill(pid_, SIGKILL);
    int wstatus = 0;
    waitpid(pid_, &wstatus, 0);
    status_ = 128 + SIGKILL;
  }
  return *status_;
}

std::string ChildProcess::OwnErrorLines(int lines) const {
  std::ifstream in(log_file_);
  in.seekg(log_start_);
  std::deque<std::string> errors, tail;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("cloze ")) errors.push_back(line);
    tail.push_back(std::move(line));
    if (static_cast<int>(errors.size()) > lines) errors.pop_front();
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  return absl::StrJoin(errors.empty() ? tail : errors, "\n");
}

bool IsSameOrDescendantOf(pid_t pid, pid_t ancestor) {
  for (int depth = 0; pid > 1 && depth < 64; ++depth) {
    if (pid == ancestor) return true;
    std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
    std::string stat;
    if (!std::getline(in, stat)) return false;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
    const size_t close = stat.rfind(')');
    long parent = 0;
    if (close == std::string::npos || std::sscanf(stat.c_str() + close + 1, " %*c %ld", &parent) != 1) return false;
    pid = static_cast<pid_t>(parent);
  }
  return false;
}

}  // namespace cloze
