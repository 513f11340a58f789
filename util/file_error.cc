#include "util/file_error.h"

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "util/exit_status.h"

namespace cloze::util {

bool IsStorageRefusal(int error) {
  return error == ENOSPC || error == EDQUOT || error == EROFS || error == EACCES || error == EPERM;
}

absl::Status FileError(absl::string_view path, absl::string_view operation, int error) {
  const std::string message = absl::StrCat(path, ": ", operation, ": ", std::strerror(error));
  absl::Status status;
  switch (error) {
    case ENOENT:
      status = absl::NotFoundError(message);
      break;
    case EEXIST:
    case ENOTEMPTY:
      status = absl::AlreadyExistsError(message);
      break;
    case ENOSPC:
    case EDQUOT:
      status = absl::ResourceExhaustedError(message);
      break;
    case EACCES:
    case EPERM:
    case EROFS:
      status = absl::PermissionDeniedError(message);
      break;
    default:
      status = absl::InternalError(message);
  }
  return IsStorageRefusal(error) ? WithExitStatus(std::move(status), kExitCannotWrite) : status;
}

}  // namespace cloze::util
