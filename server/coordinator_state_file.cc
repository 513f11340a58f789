#include "server/coordinator_state_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "util/file_error.h"
#include "util/text_proto.h"

namespace cloze {
namespace {

// The path, what failed and strerror; a full or read-only folder is permanent for the job.
absl::Status ErrnoError(const std::string& what, const std::string& path) {
  return util::FileError(path, what, errno);
}

absl::Status FsyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return ErrnoError("cannot open to fsync", path);
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) return ErrnoError("fsync failed", path);
  return absl::OkStatus();
}

absl::Status WriteAll(int fd, const std::string& contents, const std::string& path) {
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoError("write failed", path);
    written += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

}  // namespace

std::string CoordinatorStatePath(const std::string& run_dir) {
  return absl::StrCat(run_dir, "/coordinator/state.pb.txt");
}

absl::StatusOr<std::optional<CoordinatorState>> LoadCoordinatorState(const std::string& run_dir) {
  const std::string path = CoordinatorStatePath(run_dir);
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return std::optional<CoordinatorState>();
  CoordinatorState state;
  absl::Status status = util::MergeTextProtoFile(path, &state);
  if (!status.ok()) {
    return absl::DataLossError(absl::StrCat("the coordinator's state is damaged (", status.message(),
                                            "); move it aside to start the job over"));
  }
  return std::optional<CoordinatorState>(std::move(state));
}

absl::Status SaveCoordinatorState(const std::string& run_dir, const CoordinatorState& state) {
  const std::string dir = absl::StrCat(run_dir, "/coordinator");
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return util::FileError(dir, "cannot create", error.value());
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(state, &text)) {
    return absl::InternalError("cannot print the coordinator's state as a text proto");
  }
  const std::string path = CoordinatorStatePath(run_dir), temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoError("cannot create", temporary);
  absl::Status status = WriteAll(fd, text, temporary);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoError("fsync failed", temporary);
  if (::close(fd) != 0 && status.ok()) status = ErrnoError("close failed", temporary);
  if (status.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    status = ErrnoError("cannot rename into place", temporary);
  }
  if (!status.ok()) {
    ::unlink(temporary.c_str());  // a partial file would only hold space on a full device
    return status;
  }
  return FsyncPath(dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace cloze
