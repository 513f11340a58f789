#include "data/dataset_reader.h"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "data/shard_format.h"
#include "data/shard_hash.h"
#include "data/shard_options.h"
#include "google/protobuf/util/message_differencer.h"

namespace cloze::data {
namespace {

// The shards of `dir` by index, all with the same count, every index present.
absl::StatusOr<std::vector<std::string>> ListShards(const std::string& dir, rocksdb::Env* env) {
  std::vector<std::string> children;
  if (absl::Status s = FromRocksDb(env->GetChildren(dir, &children), absl::StrCat("dataset ", dir)); !s.ok()) {
    return s;
  }
  std::map<int, std::string> by_index;
  std::optional<ShardName> first;
  std::string first_name;
  for (const std::string& child : children) {
    const std::optional<ShardName> name = ParseShardDirName(child);
    if (!name) continue;
    if (first && first->count != name->count) {
      return absl::FailedPreconditionError(
          absl::StrCat("dataset ", dir, ": shards of different datasets: ", first_name, " and ", child));
    }
    if (!first) {
      first = name;
      first_name = child;
    }
    by_index[name->index] = child;
  }
  if (!first) return absl::NotFoundError(absl::StrCat("dataset ", dir, ": no shard-NNNNN-of-MMMMM directories"));
  std::vector<std::string> paths;
  for (int i = 0; i < first->count; ++i) {
    auto it = by_index.find(i);
    if (it == by_index.end()) {
      return absl::DataLossError(
          absl::StrCat("dataset ", dir, ": shard ", dir, "/", ShardDirName(i, first->count), " is missing"));
    }
    paths.push_back(absl::StrCat(dir, "/", it->second));
  }
  return paths;
}

// Shards of one dataset agree on how their examples were made.
absl::Status CheckAgreement(const ShardMetadata& a, const std::string& a_path, const ShardMetadata& b,
                            const std::string& b_path) {
  auto differ = [&](const char* field, const std::string& va, const std::string& vb) {
    return absl::FailedPreconditionError(absl::StrCat("shards disagree on ShardMetadata.", field, ": ", a_path,
                                                      " has ", va, ", ", b_path, " has ", vb));
  };
  if (a.tokenizer_fingerprint() != b.tokenizer_fingerprint()) {
    return differ("tokenizer_fingerprint", a.tokenizer_fingerprint(), b.tokenizer_fingerprint());
  }
  if (a.vocab_size() != b.vocab_size()) {
    return differ("vocab_size", absl::StrCat(a.vocab_size()), absl::StrCat(b.vocab_size()));
  }
  if (!google::protobuf::util::MessageDifferencer::Equals(a.data_config(), b.data_config())) {
    return differ("data_config", absl::StrCat("{", a.data_config().ShortDebugString(), "}"),
                  absl::StrCat("{", b.data_config().ShortDebugString(), "}"));
  }
  return absl::OkStatus();
}

}  // namespace

DatasetReader::DatasetReader(DatasetReaderOptions options, std::shared_ptr<rocksdb::Cache> cache)
    : options_(std::move(options)), block_cache_(std::move(cache)) {}

ShardReaderOptions DatasetReader::ReaderOptions() const {
  ShardReaderOptions options;
  options.env = options_.env;
  options.expected_tokenizer_fingerprint = options_.expected_tokenizer_fingerprint;
  options.max_open_files = options_.max_open_files_per_shard;
  options.block_cache = block_cache_;
  return options;
}

absl::StatusOr<std::unique_ptr<DatasetReader>> DatasetReader::Open(const std::string& dataset_dir,
                                                                   const DatasetReaderOptions& options) {
  if (options.max_open_shards < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("DatasetReaderOptions.max_open_shards: must be positive, got ", options.max_open_shards));
  }
  absl::StatusOr<std::vector<std::string>> paths = ListShards(dataset_dir, EnvOrDefault(options.env));
  if (!paths.ok()) return paths.status();
  std::unique_ptr<DatasetReader> reader(
      new DatasetReader(options, rocksdb::NewLRUCache(options.block_cache_bytes)));
  reader->offsets_.push_back(0);
  std::string fingerprint_input = absl::StrCat("cloze-order-v1 seed ", options.seed, "\n");
  for (const std::string& path : *paths) {
    absl::StatusOr<std::unique_ptr<ShardReader>> shard = ShardReader::Open(path, reader->ReaderOptions());
    if (!shard.ok()) return shard.status();
    Shard entry{path, (*shard)->metadata(), nullptr, 0};
    if (!reader->shards_.empty()) {
      const Shard& first = reader->shards_.front();
      if (absl::Status s = CheckAgreement(first.metadata, first.path, entry.metadata, path); !s.ok()) return s;
    }
    // Validating needs every shard opened once; keep open only as many as allowed.
    if (reader->open_shards_ < options.max_open_shards) {
      entry.reader = *std::move(shard);
      entry.last_used = ++reader->clock_;
      ++reader->open_shards_;
    }
    reader->offsets_.push_back(reader->offsets_.back() + entry.metadata.example_count());
    absl::StrAppend(&fingerprint_input, entry.metadata.content_sha256(), " ", entry.metadata.example_count(),
                    "\n");
    reader->shards_.push_back(std::move(entry));
  }
  if (reader->size() == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("dataset ", dataset_dir, ": its ", reader->shard_count(), " shards hold no examples"));
  }
  reader->order_fingerprint_ = Sha256Hex(fingerprint_input);
  return reader;
}

absl::StatusOr<const ShardReader*> DatasetReader::OpenShard(int s) {
  Shard& shard = shards_[s];
  shard.last_used = ++clock_;
  if (shard.reader != nullptr) return shard.reader.get();
  if (open_shards_ >= options_.max_open_shards) {
    Shard* oldest = nullptr;
    for (Shard& candidate : shards_) {
      if (candidate.reader != nullptr && (oldest == nullptr || candidate.last_used < oldest->last_used)) {
        oldest = &candidate;
      }
    }
    oldest->reader.reset();
    --open_shards_;
  }
  absl::StatusOr<std::unique_ptr<ShardReader>> reopened = ShardReader::Open(shard.path, ReaderOptions());
  if (!reopened.ok()) return reopened.status();
  // A shard replaced since Open would silently change the order's meaning.
  if ((*reopened)->metadata().content_sha256() != shard.metadata.content_sha256() ||
      (*reopened)->metadata().example_count() != shard.metadata.example_count()) {
    return absl::DataLossError(
        absl::StrCat("shard ", shard.path, ": changed since the dataset was opened (content ",
                     shard.metadata.content_sha256(), ", now ", (*reopened)->metadata().content_sha256(), ")"));
  }
  shard.reader = *std::move(reopened);
  ++open_shards_;
  return shard.reader.get();
}

const ShufflePermutation& DatasetReader::Permutation(int64_t epoch) const {
  if (!permutation_ || permutation_epoch_ != epoch) {
    permutation_.emplace(size(), options_.seed, epoch);
    permutation_epoch_ = epoch;
  }
  return *permutation_;
}

int64_t DatasetReader::IndexAt(int64_t epoch, int64_t position) const { return Permutation(epoch)(position); }

absl::StatusOr<Example> DatasetReader::Get(int64_t index) {
  if (index < 0 || index >= size()) {
    return absl::OutOfRangeError(absl::StrCat("dataset example ", index, " is outside [0, ", size(), ")"));
  }
  const int s = static_cast<int>(std::upper_bound(offsets_.begin(), offsets_.end(), index) - offsets_.begin()) - 1;
  absl::StatusOr<const ShardReader*> shard = OpenShard(s);
  if (!shard.ok()) return shard.status();
  absl::StatusOr<Example> example = (*shard)->Get(index - offsets_[s]);
  if (!example.ok()) {
    return absl::Status(example.status().code(),
                        absl::StrCat("dataset example ", index, ": ", example.status().message()));
  }
  return example;
}

DatasetCursor DatasetReader::cursor() const { return DatasetCursor{epoch_, position_, order_fingerprint_}; }

absl::Status DatasetReader::Seek(const DatasetCursor& cursor) {
  if (!cursor.order_fingerprint.empty() && cursor.order_fingerprint != order_fingerprint_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "DatasetCursor.order_fingerprint: ", cursor.order_fingerprint, " was taken on another order than ",
        order_fingerprint_, " (other shards or another seed); its position means nothing here"));
  }
  if (cursor.epoch < 0) {
    return absl::InvalidArgumentError(absl::StrCat("DatasetCursor.epoch: ", cursor.epoch, " is negative"));
  }
  if (cursor.position < 0 || cursor.position >= size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("DatasetCursor.position: ", cursor.position, " is outside [0, ", size(), ")"));
  }
  epoch_ = cursor.epoch;
  position_ = cursor.position;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DatasetExample>> DatasetReader::Next(int rank, int world_size, int count) {
  if (world_size < 1 || rank < 0 || rank >= world_size || count < 0) {
    return absl::InvalidArgumentError(absl::StrCat("DatasetReader::Next: rank ", rank, ", world_size ", world_size,
                                                   ", count ", count,
                                                   " (need 0 <= rank < world_size, count >= 0)"));
  }
  const int64_t n = size();
  std::vector<DatasetExample> out;
  out.reserve(count);
  for (int64_t j = 0; j < count; ++j) {
    const int64_t ahead = position_ + int64_t{rank} * count + j;  // stream positions past the epoch start
    DatasetExample item;
    item.epoch = epoch_ + ahead / n;
    item.position = ahead % n;
    item.index = IndexAt(item.epoch, item.position);
    absl::StatusOr<Example> example = Get(item.index);
    if (!example.ok()) return example.status();
    item.example = *std::move(example);
    out.push_back(std::move(item));
  }
  const int64_t consumed = position_ + int64_t{world_size} * count;
  epoch_ += consumed / n;
  position_ = consumed % n;
  return out;
}

absl::Status DatasetReader::VerifyContent() {
  for (int s = 0; s < shard_count(); ++s) {
    absl::StatusOr<const ShardReader*> shard = OpenShard(s);
    if (!shard.ok()) return shard.status();
    if (absl::Status status = (*shard)->VerifyContent(); !status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace cloze::data
