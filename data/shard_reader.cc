#include "data/shard_reader.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "data/shard_format.h"
#include "data/shard_hash.h"
#include "data/shard_options.h"

namespace cloze::data {
namespace {

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
absl::string_view ToView(const rocksdb::Slice& s) { return absl::string_view(s.data(), s.size()); }

std::string BaseName(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsLowerHex(const std::string& s, size_t length) {
  if (s.size() != length) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

absl::Status CheckMetadata(const ShardMetadata& m, const ShardName& name) {
  auto bad = [](const std::string& message) {
    return absl::DataLossError(absl::StrCat("ShardMetadata.", message));
  };
  if (m.format_version() != kShardFormatVersion) {
    return absl::FailedPreconditionError(absl::StrCat("ShardMetadata.format_version: ", m.format_version(),
                                                      ", this build reads ", kShardFormatVersion));
  }
  if (m.shard_index() != name.index || m.shard_count() != name.count) {
    return bad(absl::StrCat("shard_index/shard_count: ", m.shard_index(), " of ", m.shard_count(),
                            ", but the directory name says ", name.index, " of ", name.count));
  }
  if (m.example_count() < 0) return bad(absl::StrCat("example_count: ", m.example_count(), " is negative"));
  if (m.tokenizer_fingerprint().empty()) return bad("tokenizer_fingerprint: is empty");
  if (!IsLowerHex(m.content_sha256(), 64)) {
    return bad(absl::StrCat("content_sha256: \"", m.content_sha256(), "\" is not 64 lowercase hex digits"));
  }
  if (m.vocab_size() <= 0) return bad(absl::StrCat("vocab_size: must be positive, got ", m.vocab_size()));
  return absl::OkStatus();
}

}  // namespace

ShardReader::ShardReader(std::string path, std::unique_ptr<rocksdb::DB> db, ShardMetadata metadata)
    : path_(std::move(path)), db_(std::move(db)), metadata_(std::move(metadata)) {}

absl::StatusOr<std::unique_ptr<ShardReader>> ShardReader::Open(const std::string& path,
                                                               const ShardReaderOptions& options) {
  const std::string context = absl::StrCat("shard ", path);
  const std::optional<ShardName> name = ParseShardDirName(BaseName(path));
  if (!name) return absl::InvalidArgumentError(absl::StrCat(context, ": not named shard-NNNNN-of-MMMMM"));
  rocksdb::DB* raw = nullptr;
  const rocksdb::Options db_options = ShardReadOptions(options.env, options.max_open_files, options.block_cache);
  if (absl::Status s = FromRocksDb(rocksdb::DB::OpenForReadOnly(db_options, path, &raw), context); !s.ok()) {
    return s;
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  std::string value;
  const rocksdb::Status got = db->Get(rocksdb::ReadOptions(), ToSlice(kMetadataKey), &value);
  if (got.IsNotFound()) {
    return absl::DataLossError(absl::StrCat(context, ": the metadata record (metadata key) is missing"));
  }
  if (absl::Status s = FromRocksDb(got, absl::StrCat(context, ": metadata key")); !s.ok()) return s;
  ShardMetadata metadata;
  if (!metadata.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat(context, ": metadata key: the value (", value.size(),
                                            " bytes) does not parse as cloze.ShardMetadata"));
  }
  if (absl::Status s = CheckMetadata(metadata, *name); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(context, ": ", s.message()));
  }
  if (!options.expected_tokenizer_fingerprint.empty() &&
      metadata.tokenizer_fingerprint() != options.expected_tokenizer_fingerprint) {
    return absl::FailedPreconditionError(
        absl::StrCat(context, ": tokenizer fingerprint is \"", metadata.tokenizer_fingerprint(), "\", expected \"",
                     options.expected_tokenizer_fingerprint, "\" (the shard was made with another tokenizer)"));
  }
  std::unique_ptr<ShardReader> reader(new ShardReader(path, std::move(db), std::move(metadata)));
  if (absl::Status s = reader->CheckBoundaryKeys(); !s.ok()) return s;
  return reader;
}

// Two seeks: the first key must be example 0 and the last example key example_count - 1,
// with nothing after the metadata key. VerifyContent checks every key in between.
absl::Status ShardReader::CheckBoundaryKeys() const {
  const std::string context = absl::StrCat("shard ", path_);
  const int64_t count = metadata_.example_count();
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
  it->SeekToFirst();
  if (!it->Valid()) {
    return FromRocksDb(it->status().ok() ? rocksdb::Status::Corruption("no first record") : it->status(),
                       absl::StrCat(context, ": first record"));
  }
  const std::string first = count > 0 ? ExampleKey(0) : std::string(kMetadataKey);
  if (ToView(it->key()) != first) {
    return absl::DataLossError(absl::StrCat(context, ": the first record is ", DescribeKey(ToView(it->key())),
                                            ", expected ", DescribeKey(first), " (example_count ", count, ")"));
  }
  it->Seek(ToSlice(kMetadataKey));
  if (count > 0) {
    it->Prev();
    if (!it->Valid() || ToView(it->key()) != ExampleKey(count - 1)) {
      if (!it->status().ok()) return FromRocksDb(it->status(), absl::StrCat(context, ": last example"));
      return absl::DataLossError(absl::StrCat(
          context, ": the last example record is ", it->Valid() ? DescribeKey(ToView(it->key())) : "absent",
          ", expected ", DescribeKey(ExampleKey(count - 1)), " (example_count ", count, ")"));
    }
    it->Next();
  }
  it->Next();  // past the metadata key
  if (it->Valid()) {
    return absl::DataLossError(
        absl::StrCat(context, ": unexpected record after the metadata: ", DescribeKey(ToView(it->key()))));
  }
  return FromRocksDb(it->status(), absl::StrCat(context, ": scanning past the metadata key"));
}

absl::StatusOr<Example> ShardReader::Get(int64_t index) const {
  const std::string key = ExampleKey(index < 0 ? 0 : index);
  if (index < 0 || index >= size()) {
    return absl::OutOfRangeError(
        absl::StrCat("shard ", path_, ": example ", index, " is outside [0, ", size(), ")"));
  }
  const std::string context = absl::StrCat("shard ", path_, ": ", DescribeKey(key));
  std::string value;
  const rocksdb::Status got = db_->Get(rocksdb::ReadOptions(), ToSlice(key), &value);
  if (got.IsNotFound()) return absl::DataLossError(absl::StrCat(context, ": the record is missing"));
  if (absl::Status s = FromRocksDb(got, context); !s.ok()) return s;
  Example example;
  if (!example.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat(context, ": the value (", value.size(), " bytes) does not parse as cloze.Example"));
  }
  return example;
}

absl::Status ShardReader::VerifyContent() const { return ScanContent(nullptr); }

absl::Status ShardReader::ScanContent(
    const std::function<absl::Status(int64_t index, absl::string_view value)>& visit) const {
  const std::string context = absl::StrCat("shard ", path_);
  rocksdb::ReadOptions read;
  read.verify_checksums = true;
  read.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(read));
  ContentHasher hasher;
  int64_t next = 0;  // the index the next example key must have
  bool saw_metadata = false;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const absl::string_view key = ToView(it->key());
    if (saw_metadata) {
      return absl::DataLossError(
          absl::StrCat(context, ": unexpected record after the metadata: ", DescribeKey(key)));
    }
    if (key == kMetadataKey) {
      saw_metadata = true;
      continue;
    }
    const std::optional<int64_t> index = ParseExampleKey(key);
    if (!index) return absl::DataLossError(absl::StrCat(context, ": unexpected record: ", DescribeKey(key)));
    if (*index != next) {
      return absl::DataLossError(absl::StrCat(context, ": ", DescribeKey(ExampleKey(next)),
                                              " is missing (the next record is ", DescribeKey(key), ")"));
    }
    hasher.AddRecord(key, ToView(it->value()));
    if (visit) {
      if (absl::Status s = visit(next, ToView(it->value())); !s.ok()) return s;
    }
    ++next;
  }
  if (!it->status().ok()) {
    const std::string where = next == 0 ? std::string("the first record")
                                        : absl::StrCat("the record after ", DescribeKey(ExampleKey(next - 1)));
    return FromRocksDb(it->status(), absl::StrCat(context, ": reading ", where));
  }
  if (next != size()) {
    return absl::DataLossError(absl::StrCat(context, ": holds ", next, " examples, the metadata says ", size()));
  }
  if (!saw_metadata) return absl::DataLossError(absl::StrCat(context, ": the metadata record is missing"));
  const std::string digest = hasher.HexDigest();
  if (digest != metadata_.content_sha256()) {
    return absl::DataLossError(absl::StrCat(context, ": content SHA-256 is ", digest, ", the metadata says ",
                                            metadata_.content_sha256()));
  }
  return absl::OkStatus();
}

}  // namespace cloze::data
