// The RocksDB settings shared by shard writers and readers, in one place so the two agree.
#ifndef CLOZE_DATA_SHARD_OPTIONS_H_
#define CLOZE_DATA_SHARD_OPTIONS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "rocksdb/cache.h"
#include "rocksdb/compression_type.h"
#include "rocksdb/env.h"
#include "rocksdb/options.h"

namespace cloze::data {

// The block compression shards are written with: ZSTD when this RocksDB build supports it
// (token ids compress well and its decompression cost per block is microseconds, far below
// a training step), else LZ4, else Snappy. kNoCompression when none is built in.
rocksdb::CompressionType ShardCompression();

// Options for creating a shard in a fresh directory through `env` (not owned, non-null).
// Memory is bounded by two 32 MiB memtables plus an 8 MiB block cache whatever the shard
// size. RocksDB's info log is discarded: the shard directory holds only the database, and
// every error is returned as a Status anyway.
rocksdb::Options ShardWriteOptions(rocksdb::Env* env, size_t write_buffer_bytes = 32 << 20);

// Options for opening a finished shard read-only: at most `max_open_files` descriptors
// (RocksDB raises values below 20 to 20) and `block_cache`, which may be shared by many
// shards (nullptr: a private 4 MiB cache). The info log is discarded, so reading never
// writes into the shard directory (many ranks may read it at once, on read-only storage).
rocksdb::Options ShardReadOptions(rocksdb::Env* env, int max_open_files,
                                  std::shared_ptr<rocksdb::Cache> block_cache);

// `env` itself, or RocksDB's default Env when null.
rocksdb::Env* EnvOrDefault(rocksdb::Env* env);

// A RocksDB status as an absl::Status of the matching code, its message prefixed by
// `context` ("shard /data/shard-00001-of-00004: example 17 (key 0x...)").
// Corruption becomes DataLoss; NotFound, IOError (Unavailable) and the rest keep their sense.
absl::Status FromRocksDb(const rocksdb::Status& status, const std::string& context);

}  // namespace cloze::data

#endif  // CLOZE_DATA_SHARD_OPTIONS_H_
