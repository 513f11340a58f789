#include "data/shard_format.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cloze::data {
namespace {

constexpr absl::string_view kPrefix = "shard-";
constexpr absl::string_view kInfix = "-of-";
constexpr int kDigits = 5;

// Exactly kDigits decimal digits.
std::optional<int> ParseDigits(absl::string_view text) {
  if (text.size() != kDigits) return std::nullopt;
  int value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

}  // namespace

std::string ShardDirName(int shard_index, int shard_count) {
  return absl::StrFormat("shard-%05d-of-%05d", shard_index, shard_count);
}

std::string ShardTempDirName(int shard_index, int shard_count) {
  return absl::StrCat(".", ShardDirName(shard_index, shard_count), ".partial");
}

std::optional<ShardName> ParseShardDirName(absl::string_view name) {
  if (name.size() != kPrefix.size() + kDigits + kInfix.size() + kDigits) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (name.substr(kPrefix.size() + kDigits, kInfix.size()) != kInfix) return std::nullopt;
  const std::optional<int> index = ParseDigits(name.substr(kPrefix.size(), kDigits));
  const std::optional<int> count = ParseDigits(name.substr(name.size() - kDigits));
  if (!index || !count || *index >= *count) return std::nullopt;
  return ShardName{*index, *count};
}

std::string ExampleKey(int64_t index) {
  const uint64_t value = static_cast<uint64_t>(index);
  std::string key(8, '\0');
  for (int i = 0; i < 8; ++i) key[i] = static_cast<char>(value >> (56 - 8 * i));
  return key;
}

std::optional<int64_t> ParseExampleKey(absl::string_view key) {
  if (key.size() != 8) return std::nullopt;
  uint64_t value = 0;
  for (char c : key) value = (value << 8) | static_cast<unsigned char>(c);
  if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(value);
}

std::string DescribeKey(absl::string_view key) {
  if (key == kMetadataKey) return "metadata key";
  if (std::optional<int64_t> index = ParseExampleKey(key)) {
    return absl::StrFormat("example %d (key 0x%016x)", *index, static_cast<uint64_t>(*index));
  }
  return absl::StrCat("unknown key 0x", absl::BytesToHexString(key));
}

}  // namespace cloze::data
