// Reads a whole dataset (every shard of a directory) in a shuffled, resumable, partitioned
// order.
//
// The examples form one global index space, shard-major: shard 0's examples are 0 ..
// c0 - 1, shard 1's follow, and so on. Each epoch visits all N of them in the order
// ShufflePermutation(N, seed, epoch). The epochs laid end to end form one stream; a
// DatasetCursor {epoch, position} is a point in it, position counting the examples of
// that epoch consumed by all ranks together.
//
// Partitioning: in a step every rank calls Next(rank, world_size, count) from the same
// cursor; rank r takes the contiguous stream positions [p + r·count, p + (r + 1)·count),
// and every rank's cursor advances by W * count. The ranks together therefore consume
// exactly the stream positions [p, p + W * count), in rank order: W ranks × count examples
// read the same examples, in the same order, as 1 rank × W·count (data-parallel training
// relies on that to compute the same step). A step that reaches the end of an epoch continues into the next epoch's order.
//
// World-size changes: the cursor counts global positions and does not depend on W, so a
// run resumed from a checkpointed cursor with another world size continues at the same
// stream position: no example is skipped or read twice. This holds when the checkpoint is
// taken between steps (every rank has made the same number of Next calls), which is what
// synchronous data-parallel training does anyway.
#ifndef CLOZE_DATA_DATASET_READER_H_
#define CLOZE_DATA_DATASET_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/dataset_shuffle.h"
#include "data/shard_reader.h"
#include "proto/data.pb.h"
#include "rocksdb/cache.h"
#include "rocksdb/env.h"

namespace cloze::data {

// Where reading resumes; store all three fields in a checkpoint.
struct DatasetCursor {
  int64_t epoch = 0;
  int64_t position = 0;  // in [0, N): examples of this epoch's order consumed, all ranks together
  // DatasetReader::order_fingerprint() when the cursor was taken; Seek refuses a cursor of
  // another order (other shards or seed). Empty: not checked.
  std::string order_fingerprint;
};

// One example as Next returns it, with where it came from (for dynamic masking and logs).
struct DatasetExample {
  int64_t epoch = 0;
  int64_t position = 0;  // in the epoch's order
  int64_t index = 0;     // global example index
  Example example;
};

struct DatasetReaderOptions {
  uint64_t seed = 0;  // the shuffle's seed
  // When non-empty, every shard must have been made with this tokenizer.
  std::string expected_tokenizer_fingerprint;
  // Shards held open at once (>= 1); beyond it the least recently used is closed and
  // reopened on demand. Each open shard holds up to max_open_files_per_shard descriptors.
  int max_open_shards = 64;
  int max_open_files_per_shard = 32;
  // One block cache shared by all shards. Shuffled reads rarely hit it, so it stays small.
  size_t block_cache_bytes = 16 << 20;
  // File system access, for fault injection; not owned, must outlive the reader.
  rocksdb::Env* env = nullptr;
};

// Not thread-safe: one reader per rank (it holds that rank's cursor).
class DatasetReader {
 public:
  // Opens every shard-NNNNN-of-MMMMM directory under `dataset_dir` (other entries, partial
  // shards among them, are ignored) and checks that they form one dataset: one shard count,
  // every index from 0 to count - 1 present, equal tokenizer fingerprint, data config and
  // vocab size, and at least one example in all. Errors name the directory, the shard and
  // the field: NotFound (no directory or no shards), DataLoss (a missing or corrupt shard),
  // FailedPrecondition (shards that disagree, a fingerprint other than expected, no examples),
  // InvalidArgument (bad options).
  static absl::StatusOr<std::unique_ptr<DatasetReader>> Open(const std::string& dataset_dir,
                                                             const DatasetReaderOptions& options = {});

  int64_t size() const { return offsets_.back(); }  // N, the number of examples
  int shard_count() const { return static_cast<int>(shards_.size()); }
  const ShardMetadata& shard_metadata(int shard) const { return shards_[shard].metadata; }

  // Identifies the order examples are read in: the seed and every shard's content hash and
  // example count.
  const std::string& order_fingerprint() const { return order_fingerprint_; }

  // The global index at `position` of `epoch`'s order. Requires epoch >= 0 and
  // 0 <= position < size().
  int64_t IndexAt(int64_t epoch, int64_t position) const;

  // Example `index` of the global index space; OutOfRange outside [0, size()), otherwise
  // ShardReader::Get's errors prefixed with the global index.
  absl::StatusOr<Example> Get(int64_t index);

  // The cursor, with order_fingerprint() filled in.
  DatasetCursor cursor() const;

  // Continues from `cursor`. InvalidArgument for epoch < 0 or position outside [0, size());
  // FailedPrecondition when the cursor's non-empty fingerprint differs from this reader's.
  absl::Status Seek(const DatasetCursor& cursor);

  // This rank's `count` examples of the next step (see the top of this file) and advances
  // the cursor by world_size * count. Requires 0 <= rank < world_size and count >= 0
  // (InvalidArgument otherwise). On a read error returns it and leaves the cursor where it
  // was, so no example is silently dropped.
  absl::StatusOr<std::vector<DatasetExample>> Next(int rank, int world_size, int count);

  // ShardReader::VerifyContent on every shard, in order; the first error.
  absl::Status VerifyContent();

 private:
  struct Shard {
    std::string path;
    ShardMetadata metadata;
    std::unique_ptr<ShardReader> reader;  // null while closed
    uint64_t last_used = 0;
  };

  DatasetReader(DatasetReaderOptions options, std::shared_ptr<rocksdb::Cache> cache);
  ShardReaderOptions ReaderOptions() const;
  absl::StatusOr<const ShardReader*> OpenShard(int shard);
  const ShufflePermutation& Permutation(int64_t epoch) const;

  const DatasetReaderOptions options_;
  const std::shared_ptr<rocksdb::Cache> block_cache_;
  std::vector<Shard> shards_;
  std::vector<int64_t> offsets_;  // offsets_[s] = first global index of shard s; back() = N
  std::string order_fingerprint_;
  int open_shards_ = 0;
  uint64_t clock_ = 0;
  int64_t epoch_ = 0;
  int64_t position_ = 0;
  mutable std::optional<ShufflePermutation> permutation_;  // the order of permutation_epoch_
  mutable int64_t permutation_epoch_ = -1;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_DATASET_READER_H_
