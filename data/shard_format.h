// The on-disk layout of a shard: its directory name, its keys and the format version.
//
// A dataset is a directory holding N shards. Each shard is one RocksDB database in a
// directory named `shard-NNNNN-of-MMMMM` (5-digit, zero-padded, index from 0), holding:
//   - example records: key = the example's index within the shard as an 8-byte big-endian
//     uint64, value = a serialized cloze.Example. Big-endian makes RocksDB's bytewise key
//     order the numeric order, so a scan visits examples 0, 1, 2, ...;
//   - one metadata record under kMetadataKey, value = a serialized cloze.ShardMetadata.
// Example indices are below 2^63, so every example key starts with a byte <= 0x7f, while
// kMetadataKey starts with eight 0xff bytes and is longer than 8 bytes: it sorts after every
// example key and can never be mistaken for one (example keys are exactly 8 bytes).
// A shard being written lives under a temporary name (ShardTempDirName) that never parses
// as a shard, and is renamed to its final name only once complete.
#ifndef CLOZE_DATA_SHARD_FORMAT_H_
#define CLOZE_DATA_SHARD_FORMAT_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace cloze::data {

// ShardMetadata.format_version written by this build; readers refuse any other value.
inline constexpr int kShardFormatVersion = 1;

// Shard indices and counts are written with 5 digits.
inline constexpr int kMaxShardCount = 99999;

// The reserved key of the metadata record (see above for why it cannot collide).
inline constexpr absl::string_view kMetadataKey(
    "\xff\xff\xff\xff\xff\xff\xff\xff"
    "cloze.shard_metadata",
    28);

// "shard-00003-of-00010". Requires 0 <= index < count <= kMaxShardCount.
std::string ShardDirName(int shard_index, int shard_count);

// ".shard-00003-of-00010.partial": where a shard is written before it is complete.
std::string ShardTempDirName(int shard_index, int shard_count);

struct ShardName {
  int index = 0;
  int count = 0;
};

// The index and count encoded in a final shard directory name (no path), or nullopt when
// `name` is not exactly of the ShardDirName form (temporary names included) or
// index >= count.
std::optional<ShardName> ParseShardDirName(absl::string_view name);

// The 8-byte big-endian key of example `index`. Requires index >= 0.
std::string ExampleKey(int64_t index);

// The example index of an 8-byte example key, or nullopt for any other key (wrong length,
// or an index >= 2^63).
std::optional<int64_t> ParseExampleKey(absl::string_view key);

// A key as it appears in error messages: "example 17 (key 0x0000000000000011)",
// "metadata key", or the hex bytes of an unknown key.
std::string DescribeKey(absl::string_view key);

}  // namespace cloze::data

#endif  // CLOZE_DATA_SHARD_FORMAT_H_
