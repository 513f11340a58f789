#include "util/file_error.h"

#include <cerrno>

#include "gtest/gtest.h"
#include "util/atomic_file.h"
#include "util/exit_status.h"

namespace cloze::util {
namespace {

TEST(FileErrorTest, NamesThePathTheOperationAndTheReason) {
  const absl::Status full = FileError("run/metrics.jsonl", "write", ENOSPC);
  EXPECT_EQ(full.message(), "run/metrics.jsonl: write: No space left on device");
  EXPECT_TRUE(absl::IsResourceExhausted(full));
  EXPECT_EQ(FileError("run/x.tmp", "create", EROFS).message(), "run/x.tmp: create: Read-only file system");
}

TEST(FileErrorTest, StorageRefusalsArePermanentOtherErrorsAreNot) {
  for (int error : {ENOSPC, EDQUOT, EROFS, EACCES, EPERM}) {
    EXPECT_EQ(ExitStatusOf(FileError("p", "write", error)), kExitCannotWrite) << error;
  }
  for (int error : {EIO, ENOENT, EINTR}) EXPECT_EQ(ExitStatusOf(FileError("p", "write", error)), kExitFailure) << error;
}

TEST(AtomicFileTest, AFolderThatIsMissingIsNamedWithTheReason) {
  const std::string path = std::string(getenv("TEST_TMPDIR")) + "/missing/config.pb.txt";
  const absl::Status status = WriteTextFileAtomically(path, "x");
  EXPECT_TRUE(absl::IsNotFound(status)) << status;
  EXPECT_EQ(status.message(), path + ".tmp: create: No such file or directory");
}

}  // namespace
}  // namespace cloze::util
