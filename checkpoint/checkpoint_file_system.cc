#include "checkpoint/checkpoint_file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>  // renameat2, RENAME_NOREPLACE (glibc 2.28+)
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "util/file_error.h"

namespace cloze {
namespace {

// The path, the operation and strerror; a full or read-only device is permanent for the
// job (util/file_error.h).
absl::Status PosixError(const std::string& path, const char* operation, int error) {
  return util::FileError(path, operation, error);
}

// Opens `path` with `flags`, runs fsync on it and closes it.
absl::Status OpenAndSync(const std::string& path, int flags, const char* what) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return PosixError(path, what, errno);
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  return synced == 0 ? absl::OkStatus() : PosixError(path, what, error);
}

class PosixFileSystem : public CheckpointFileSystem {
 public:
  absl::Status CreateDir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0755) == 0) return absl::OkStatus();
    const int error = errno;
    struct stat info;
    if (error == EEXIST && ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return absl::OkStatus();
    return PosixError(path, "mkdir", error);
  }

  absl::Status WriteFile(const std::string& path, std::string_view contents) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return PosixError(path, "create", errno);
    size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int error = errno;
        ::close(fd);
        return PosixError(path, "write", error);
      }
      done += static_cast<size_t>(n);
    }
    if (::close(fd) != 0) return PosixError(path, "close", errno);
    return absl::OkStatus();
  }

  absl::Status SyncFile(const std::string& path) override { return OpenAndSync(path, O_RDONLY, "fsync"); }

  absl::Status SyncDir(const std::string& path) override {
    return OpenAndSync(path, O_RDONLY | O_DIRECTORY, "fsync directory");
  }

  absl::Status RenameDir(const std::string& from, const std::string& to) override {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return absl::OkStatus();
    const int error = errno;
    if (error != EINVAL && error != ENOSYS) return PosixError(from, absl::StrCat("rename to ", to).c_str(), error);
    // The file system cannot refuse to replace atomically: check first. Only the run's one
    // checkpoint writer creates these names, so nothing can appear between check and rename.
    struct stat info;
    if (::lstat(to.c_str(), &info) == 0) return PosixError(to, "rename target", EEXIST);
    if (::rename(from.c_str(), to.c_str()) != 0) return PosixError(from, absl::StrCat("rename to ", to).c_str(), errno);
    return absl::OkStatus();
  }

  absl::Status RemoveAll(const std::string& path) override {
    std::error_code error;
    std::filesystem::remove_all(path, error);
    if (error) return PosixError(path, "remove", error.value());
    return absl::OkStatus();
  }

  absl::StatusOr<std::string> ReadFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return PosixError(path, "open", errno);
    std::string contents;
    struct stat info;
    if (::fstat(fd, &info) == 0 && info.st_size > 0) contents.reserve(static_cast<size_t>(info.st_size));
    char buffer[1 << 16];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        const int error = errno;
        ::close(fd);
        return PosixError(path, "read", error);
      }
      if (n == 0) break;
      contents.append(buffer, static_cast<size_t>(n));
    }
    ::close(fd);
    return contents;
  }

  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override {
    DIR* dir = ::opendir(path.c_str());
    if (dir == nullptr) return PosixError(path, "list", errno);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* entry = ::readdir(dir)) {
      const std::string_view name = entry->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int error = errno;
    ::closedir(dir);
    if (error != 0) return PosixError(path, "list", error);
    std::sort(names.begin(), names.end());
    return names;
  }
};

}  // namespace

CheckpointFileSystem* PosixCheckpointFileSystem() {
  static PosixFileSystem* const file_system = new PosixFileSystem;
  return file_system;
}

}  // namespace cloze
