// Reads one finished shard (layout in data/shard_format.h).
#ifndef CLOZE_DATA_SHARD_READER_H_
#define CLOZE_DATA_SHARD_READER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/data.pb.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"

namespace cloze::data {

struct ShardReaderOptions {
  // File system access, for fault injection in tests; not owned, must outlive the reader.
  // nullptr: RocksDB's default Env.
  rocksdb::Env* env = nullptr;
  // When non-empty, Open refuses a shard whose tokenizer fingerprint differs.
  std::string expected_tokenizer_fingerprint;
  // File descriptors the shard may hold open (RocksDB raises values below 20 to 20).
  int max_open_files = 32;
  // May be shared by many readers; nullptr gives this reader a private 4 MiB cache.
  std::shared_ptr<rocksdb::Cache> block_cache;
};

// Random access to the examples of one shard, opened read-only (it never writes into the
// shard directory, so many processes may read one shard at once). Every error names the
// shard's path and, where there is one, the key. Get() and VerifyContent() are thread-safe.
class ShardReader {
 public:
  // Opens the shard directory `path` (named shard-NNNNN-of-MMMMM) and validates its metadata
  // record: present and parsable, format_version == kShardFormatVersion, shard_index and
  // shard_count equal to those in the name, tokenizer fingerprint, content hash and
  // vocab_size present, and example keys present exactly for the boundary indices 0 and
  // example_count - 1 (none at all when example_count is 0). Errors:
  //   NotFound / InvalidArgument   no database at `path`, or a name that is not a shard's;
  //   DataLoss                     a corrupt database or metadata record;
  //   FailedPrecondition           another format version, or a tokenizer fingerprint other
  //                                than options.expected_tokenizer_fingerprint (both named).
  static absl::StatusOr<std::unique_ptr<ShardReader>> Open(const std::string& path,
                                                           const ShardReaderOptions& options = {});

  const ShardMetadata& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }
  int64_t size() const { return metadata_.example_count(); }

  // Example `index` of this shard. OutOfRange outside [0, size()); DataLoss naming the shard
  // and the key when the record is missing, corrupt (RocksDB checksum) or unparsable.
  absl::StatusOr<Example> Get(int64_t index) const;

  // Scans every record and recomputes the content hash. DataLoss naming the shard (and the
  // key, where one is at fault) on a missing, extra or unreadable record or a hash mismatch.
  // Reads the whole shard without filling the block cache.
  absl::Status VerifyContent() const;

  // VerifyContent, handing every example record to `visit` on the way, in index order:
  // its index and its value (a serialized cloze.Example, not yet parsed). Stops at the first
  // error `visit` returns. A failed check can come after records were visited (the hash is
  // known at the end only), so a caller that writes what it visits must not publish it
  // before this returns OK. `visit` may be null.
  absl::Status ScanContent(const std::function<absl::Status(int64_t index, absl::string_view value)>& visit) const;

 private:
  ShardReader(std::string path, std::unique_ptr<rocksdb::DB> db, ShardMetadata metadata);
  absl::Status CheckBoundaryKeys() const;

  const std::string path_;
  const std::unique_ptr<rocksdb::DB> db_;
  const ShardMetadata metadata_;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_SHARD_READER_H_
