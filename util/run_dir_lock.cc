#include "util/run_dir_lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "util/file_error.h"

namespace cloze {
namespace {

std::string LockPath(const std::string& run_dir, const std::string& file_name = kRunDirLockFileName) {
  return absl::StrCat(run_dir, "/", file_name);
}

std::string HostName() {
  char host[256] = {};
  return gethostname(host, sizeof host - 1) == 0 && host[0] != '\0' ? std::string(host) : "unknown-host";
}

struct Holder {
  std::string host;
  long pid = 0;
  std::string command;
};

Holder ReadHolder(const std::string& path) {
  std::ifstream in(path);
  Holder holder;
  in >> holder.host >> holder.pid;
  std::getline(in >> std::ws, holder.command);
  return holder;
}

std::string Describe(const Holder& holder) {
  if (holder.pid <= 0) return "another process (the lock file does not say which)";
  std::string text = absl::StrCat(holder.command.empty() ? "a job" : holder.command, " on host ", holder.host,
                                  ", PID ", holder.pid);
  if (holder.host == HostName() && kill(static_cast<pid_t>(holder.pid), 0) != 0 && errno == ESRCH) {
    absl::StrAppend(&text, " (which has exited, but processes it started still hold the lock: "
                           "its coordinator, workers or parameter servers)");
  }
  return text;
}

}  // namespace

absl::StatusOr<RunDirLock> RunDirLock::Acquire(const std::string& run_dir, const std::string& command,
                                               bool inherited_by_children, const std::string& lock_file_name) {
  std::error_code error;
  std::filesystem::create_directories(run_dir, error);
  if (error) return util::FileError(run_dir, "cannot create", error.value());
  const std::string path = LockPath(run_dir, lock_file_name);
  const int fd = open(path.c_str(), O_RDWR | O_CREAT | (inherited_by_children ? 0 : O_CLOEXEC), 0644);
  if (fd < 0) return util::FileError(path, "cannot open", errno);
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int reason = errno;
    close(fd);
    if (reason != EWOULDBLOCK) return absl::UnavailableError(absl::StrCat(path, ": cannot lock: ", std::strerror(reason)));
    return absl::FailedPreconditionError(absl::StrCat(run_dir, " is in use by ", Describe(ReadHolder(path)),
                                                      " (lock file ", path,
                                                      "); stop that job first, or use another --run_dir"));
  }
  // Ours now (a dead holder's lock is gone with it): say who holds it.
  const std::string holder = absl::StrCat(HostName(), " ", getpid(), " ", command, "\n");
  if (ftruncate(fd, 0) != 0 || pwrite(fd, holder.data(), holder.size(), 0) != static_cast<ssize_t>(holder.size())) {
    const int reason = errno;
    close(fd);
    return util::FileError(path, "cannot write", reason);
  }
  return RunDirLock(fd);
}

bool RunDirLock::HeldByParent(const std::string& run_dir) {
  const Holder holder = ReadHolder(LockPath(run_dir));
  return holder.pid > 1 && holder.pid == getppid() && holder.host == HostName();
}

RunDirLock::RunDirLock(RunDirLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

RunDirLock& RunDirLock::operator=(RunDirLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

RunDirLock::~RunDirLock() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace cloze
