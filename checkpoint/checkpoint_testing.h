// A fault-injecting CheckpointFileSystem for tests: a full disk, a failed fsync or rename,
// a crash at any call, and a power loss that drops what was never synced.
#ifndef CLOZE_CHECKPOINT_CHECKPOINT_TESTING_H_
#define CLOZE_CHECKPOINT_CHECKPOINT_TESTING_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_file_system.h"
#include "model/parameter_layout.h"

namespace cloze {

// Forwards to `base` (normally PosixCheckpointFileSystem() on a test directory) except where
// a fault was asked for. Thread-safe.
class FaultInjectingFileSystem : public CheckpointFileSystem {
 public:
  enum class Op { kCreateDir, kWriteFile, kSyncFile, kSyncDir, kRenameDir, kRemoveAll, kReadFile, kListDir };

  // `base` is not owned and must outlive this.
  explicit FaultInjectingFileSystem(CheckpointFileSystem* base) : base_(base) {}

  // Makes the `n`th call of `op` from now (0: the next one) fail once: a WriteFile writes
  // half its bytes and returns ResourceExhausted (a full disk); any other call does nothing
  // and returns an IOError (InternalError) naming the path.
  void FailNth(Op op, int n);

  // The process dies at the `n`th mutating call from now (0: the next; every op but ReadFile
  // and ListDir mutates): a WriteFile writes half its bytes, any other call does nothing,
  // and it and every later call return Aborted.
  void CrashAtMutation(int n);

  // What a power failure loses: undoes renames whose parent directory was not synced since
  // (newest first) and truncates to half every file written but not synced since. Then
  // forgets both. Directory creation and deletion are taken as durable at once.
  void SimulatePowerLoss();

  // Called first in every call, outside any lock (tests use it to hold the writer back).
  void SetHook(std::function<void(Op, const std::string&)> hook);

  int mutations() const;  // mutating calls so far, failed ones included
  int calls(Op op) const;

  absl::Status CreateDir(const std::string& path) override;
  absl::Status WriteFile(const std::string& path, std::string_view contents) override;
  absl::Status SyncFile(const std::string& path) override;
  absl::Status SyncDir(const std::string& path) override;
  absl::Status RenameDir(const std::string& from, const std::string& to) override;
  absl::Status RemoveAll(const std::string& path) override;
  absl::StatusOr<std::string> ReadFile(const std::string& path) override;
  absl::StatusOr<std::vector<std::string>> ListDir(const std::string& path) override;

 private:
  enum class Fault { kNone, kFail, kCrashHere, kDead };
  // Runs the hook, counts the call and says which fault, if any, it meets.
  Fault Enter(Op op, const std::string& path);
  // The error a faulty call returns; OK for kNone.
  static absl::Status Refusal(Fault fault, const std::string& path, const char* operation);

  CheckpointFileSystem* const base_;
  mutable absl::Mutex mu_;
  std::function<void(Op, const std::string&)> hook_ ABSL_GUARDED_BY(mu_);
  std::map<Op, int> calls_ ABSL_GUARDED_BY(mu_);
  std::map<Op, std::set<int>> failing_calls_ ABSL_GUARDED_BY(mu_);  // call indices of each op
  int mutations_ ABSL_GUARDED_BY(mu_) = 0;
  int crash_at_ ABSL_GUARDED_BY(mu_) = -1;
  bool crashed_ ABSL_GUARDED_BY(mu_) = false;
  std::set<std::string> unsynced_files_ ABSL_GUARDED_BY(mu_);
  std::vector<std::pair<std::string, std::string>> unsynced_renames_ ABSL_GUARDED_BY(mu_);
};

// A new empty directory `name` under the test's temporary directory.
std::string FreshTestDir(const std::string& name);

// The layout of a small ALBERT (vocabulary `vocab_size`, embeddings 8, hidden 16, one
// shared group of two layers, feed-forward `intermediate_size`).
ParameterLayout SmallAlbertLayout(int vocab_size = 64, int intermediate_size = 32);

// Contents for `layout` with values that depend on `seed` and include -0, subnormals,
// infinities and a NaN with a payload, so that only a bitwise copy compares equal; a manifest
// with a train config, data cursor and trainer state.
CheckpointContents TestContents(const ParameterLayout& layout, int64_t step, uint32_t seed);

// Whether two buffers hold the same bits.
bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace cloze

#endif  // CLOZE_CHECKPOINT_CHECKPOINT_TESTING_H_
