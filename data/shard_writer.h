// Writes one shard of a dataset (layout in data/shard_format.h).
#ifndef CLOZE_DATA_SHARD_WRITER_H_
#define CLOZE_DATA_SHARD_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/shard_hash.h"
#include "proto/data.pb.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/write_batch.h"

namespace cloze::data {

// What a shard records about how its examples were made.
struct ShardSpec {
  int shard_index = 0;                // in [0, shard_count)
  int shard_count = 0;                // in [1, kMaxShardCount]
  std::string tokenizer_fingerprint;  // non-empty: the tokenizer's kind and file hash
  DataConfig data_config;             // its max_seq_length / max_predictions_per_seq bound Append
  int vocab_size = 0;                 // positive; every id and label is below it
};

struct ShardWriterOptions {
  // File system access, for fault injection in tests; not owned, must outlive the writer.
  // nullptr: RocksDB's default Env.
  rocksdb::Env* env = nullptr;
  // Records are committed in write batches of about this size.
  size_t batch_bytes = 4 << 20;
  // Size of each of RocksDB's two memtables: with many shards open at once (one dataset
  // writer holds all of them) this bounds the memory of the whole write.
  size_t write_buffer_bytes = 32 << 20;
};

// Appends examples to a new shard `dataset_dir/shard-NNNNN-of-MMMMM` under consecutive
// indices 0, 1, 2, ... The shard is built in `dataset_dir/.shard-NNNNN-of-MMMMM.partial` and
// renamed to its final name only by a successful Finish(), after everything is flushed and
// synced: a crash, an error or destroying the writer before Finish() never leaves anything
// that looks like a shard, and shards already finished are never touched. Memory stays
// bounded (one write batch, two memtables) whatever the shard size; the WAL is off because
// the partial directory is worthless until Finish() has flushed it.
//
// One writer per shard at a time (a second Create for the same shard fails on RocksDB's
// lock). Not thread-safe.
class ShardWriter {
 public:
  // Creates `dataset_dir` when missing (not its parents), removes a stale partial directory of
  // the same shard left by a crash, and opens a fresh database there. AlreadyExists when the
  // final shard exists (a finished shard is never overwritten), InvalidArgument for a bad
  // spec; errors name the directory.
  static absl::StatusOr<std::unique_ptr<ShardWriter>> Create(const std::string& dataset_dir, const ShardSpec& spec,
                                                             const ShardWriterOptions& options = {});

  // Closes the database and, unless Finish() succeeded, deletes the partial directory.
  ~ShardWriter();

  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // Stores `example` under the next index. An example that fails ValidateExample against
  // the spec's bounds is refused with InvalidArgument naming the shard and index, takes no
  // index, and the writer stays usable. A storage error is sticky: this and every later
  // call return it, and the shard is never published.
  absl::Status Append(const Example& example);

  // Writes the metadata record (with `corpus`, when it counts any document), flushes and syncs, closes the database and renames the
  // shard to its final name (then syncs the dataset directory). Returns the metadata
  // written. On error nothing is published. Call at most once.
  absl::StatusOr<ShardMetadata> Finish(const CorpusCounts& corpus = {});

  int64_t example_count() const { return example_count_; }
  const std::string& path() const { return final_path_; }  // the final shard directory

 private:
  ShardWriter(std::string dataset_dir, ShardSpec spec, ShardWriterOptions options);
  absl::Status Commit();
  absl::Status Fail(absl::Status status);
  absl::Status CloseDb();

  const std::string dataset_dir_;
  const ShardSpec spec_;
  const ShardWriterOptions options_;
  rocksdb::Env* const env_;
  const std::string final_path_;
  const std::string partial_path_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteBatch batch_;
  ContentHasher hasher_;
  int64_t example_count_ = 0;
  absl::Status failure_;  // sticky storage error
  bool finish_called_ = false;
  bool published_ = false;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_SHARD_WRITER_H_
