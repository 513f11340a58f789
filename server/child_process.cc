#include "server/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"

extern char** environ;

namespace cloze {

absl::StatusOr<ChildProcess> ChildProcess::Start(const std::vector<std::string>& argv, const std::string& log_file,
                                                 const std::vector<std::string>& extra_env) {
  if (argv.empty()) return absl::InvalidArgumentError("ChildProcess::Start: no program");
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const std::string& e : extra_env) env_strings.push_back(e);
  std::vector<char*> env;
  for (const std::string& e : env_strings) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  std::error_code size_error;
  const std::uintmax_t log_start = std::filesystem::file_size(log_file, size_error);
  pid_t pid = -1;
  const int error = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return absl::UnavailableError(absl::StrCat("cannot start ", argv[0], " (output to ", log_file,
                                               "): ", std::strerror(error)));
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

std::string LogTail(const std::string& log_file, int lines) {
  std::ifstream in(log_file);
  std::deque<std::string> tail;
  for (std::string line; std::getline(in, line);) {
    tail.push_back(line);
    if (static_cast<int>(tail.size()) > lines) tail.pop_front();
  }
  return absl::StrJoin(tail, "\n");
}

}  // namespace cloze
