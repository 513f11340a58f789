// Test support for the shard store: fresh directories, sample examples and datasets, and a
// RocksDB file system that fails on demand.
#ifndef CLOZE_DATA_SHARD_TESTING_H_
#define CLOZE_DATA_SHARD_TESTING_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "data/shard_writer.h"
#include "proto/data.pb.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace cloze::data::testing {

inline constexpr char kFingerprint[] = "spm:sha256=0123abcd";
inline constexpr int kVocabSize = 1000;
inline constexpr int kMaxSeqLength = 64;
inline constexpr int kMaxPredictions = 8;

// An empty directory under TEST_TMPDIR, removed first if a previous run left it.
std::string FreshDir(const std::string& name);

// A valid example whose content is a function of `tag` (lengths, ids and labels vary).
Example MakeExample(int64_t tag);

// A spec with the constants above.
ShardSpec TestSpec(int shard_index, int shard_count);

// Writes shards 0 .. sizes.size() - 1 of a dataset into `dir`; shard s holds sizes[s]
// examples, the j-th made by MakeExample(first global index of shard s + j), so a dataset
// reader's Get(i) must return MakeExample(i).
absl::Status WriteDataset(const std::string& dir, const std::vector<int64_t>& sizes,
                          const std::string& fingerprint = kFingerprint);

// Forwards to the real file system, failing the operations switched on, as a full disk, a
// failing disk or a failing rename would.
class FaultInjectingFileSystem : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectingFileSystem();
  const char* Name() const override { return "FaultInjectingFileSystem"; }

  std::atomic<bool> fail_appends{false};  // writes to files fail with "no space"
  std::atomic<bool> fail_syncs{false};    // fsync of files fails with an I/O error
  std::atomic<bool> fail_renames{false};  // RenameFile fails with an I/O error

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* file,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
};

// An Env over a FaultInjectingFileSystem, both owned.
struct FaultInjectingEnv {
  FaultInjectingEnv();
  std::shared_ptr<FaultInjectingFileSystem> fs;
  std::unique_ptr<rocksdb::Env> env;
};

}  // namespace cloze::data::testing

#endif  // CLOZE_DATA_SHARD_TESTING_H_
