#include "util/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "util/file_error.h"

namespace cloze::util {
namespace {

absl::Status WriteAll(int fd, const std::string& text, const std::string& path) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return FileError(path, "write", errno);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status WriteTextFileAtomically(const std::string& path, const std::string& text, mode_t mode) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return FileError(temporary, "create", errno);
  absl::Status status = WriteAll(fd, text, temporary);
  if (::close(fd) != 0 && status.ok()) status = FileError(temporary, "close", errno);
  if (status.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) {
    status = FileError(temporary, "rename into place", errno);
  }
  // A half-written temporary would only hold space on a device that may be full.
  if (!status.ok()) std::remove(temporary.c_str());
  return status;
}

}  // namespace cloze::util
