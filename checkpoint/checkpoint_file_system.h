// The few file-system operations checkpoints need, behind an interface so that tests can
// inject faults (checkpoint/checkpoint_testing.h: no space, failed fsync, failed rename, a crash
// at any call, a power loss that drops unsynced data).
//
// Paths are plain strings joined with '/'. Every error names the path and the operation.
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_FILE_SYSTEM_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_FILE_SYSTEM_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloze {

// Implementations must be safe to call from several threads at once on different paths
// (the background checkpoint writer uses one while the training thread may read another).
class CheckpointFileSystem {
 public:
  virtual ~CheckpointFileSystem() = default;

  // Creates directory `path` (not its parents). OK when it already is a directory;
  // NotFound when the parent is missing.
  virtual absl::Status CreateDir(const std::string& path) = 0;

  // Creates or truncates file `path` and writes `contents`, without syncing. On error the
  // file may hold part of `contents`. ResourceExhausted when the device is full.
  virtual absl::Status WriteFile(const std::string& path, std::string_view contents) = 0;

  // Makes the data of file `path` durable (fsync).
  virtual absl::Status SyncFile(const std::string& path) = 0;

  // Makes the entries of directory `path` durable (fsync on the directory): needed after
  // creating, renaming or deleting something in it.
  virtual absl::Status SyncDir(const std::string& path) = 0;

  // Renames directory `from` to `to` atomically. Never replaces anything: AlreadyExists when
  // `to` exists (even as an empty directory).
  virtual absl::Status RenameDir(const std::string& from, const std::string& to) = 0;

  // Deletes `path` and everything under it. OK when it does not exist.
  virtual absl::Status RemoveAll(const std::string& path) = 0;

  // The whole contents of file `path`. NotFound when it does not exist.
  virtual absl::StatusOr<std::string> ReadFile(const std::string& path) = 0;

  // The names (not paths) of the entries of directory `path`, sorted, without "." and "..".
  // NotFound when it does not exist.
  virtual absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) = 0;
};

// The local file system through POSIX calls. Thread-safe; lives for the whole program.
CheckpointFileSystem* PosixCheckpointFileSystem();

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_FILE_SYSTEM_H_
