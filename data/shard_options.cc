#include "data/shard_options.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/convenience.h"
#include "rocksdb/table.h"

namespace cloze::data {
namespace {

// Examples are 0.3 to 2 KB serialized; 16 KiB blocks hold about ten, which compresses
// better than RocksDB's 4 KiB default at the price of reading 16 KiB per random access.
constexpr size_t kBlockBytes = 16 << 10;
// Few, large files: a reader then holds few descriptors per shard.
constexpr uint64_t kTargetFileBytes = 256ull << 20;

class DiscardingLogger : public rocksdb::Logger {
 public:
  using rocksdb::Logger::Logv;
  void Logv(const char*, va_list) override {}
};

rocksdb::Options CommonOptions(rocksdb::Env* env, std::shared_ptr<rocksdb::Cache> block_cache) {
  rocksdb::Options options;
  options.env = EnvOrDefault(env);
  options.info_log = std::make_shared<DiscardingLogger>();
  options.compression = ShardCompression();
  options.bottommost_compression = options.compression;
  options.target_file_size_base = kTargetFileBytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_size = kBlockBytes;
  table.block_cache = std::move(block_cache);
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return options;
}

}  // namespace

rocksdb::CompressionType ShardCompression() {
  const std::vector<rocksdb::CompressionType> supported = rocksdb::GetSupportedCompressions();
  for (rocksdb::CompressionType preferred :
       {rocksdb::kZSTD, rocksdb::kLZ4Compression, rocksdb::kSnappyCompression}) {
    if (std::find(supported.begin(), supported.end(), preferred) != supported.end()) return preferred;
  }
  return rocksdb::kNoCompression;
}

rocksdb::Env* EnvOrDefault(rocksdb::Env* env) { return env != nullptr ? env : rocksdb::Env::Default(); }

rocksdb::Options ShardWriteOptions(rocksdb::Env* env, size_t write_buffer_bytes) {
  rocksdb::Options options = CommonOptions(env, rocksdb::NewLRUCache(8 << 20));
  options.create_if_missing = true;
  options.error_if_exists = true;
  options.write_buffer_size = write_buffer_bytes;
  options.max_write_buffer_number = 2;
  options.max_open_files = 64;
  return options;
}

rocksdb::Options ShardReadOptions(rocksdb::Env* env, int max_open_files,
                                  std::shared_ptr<rocksdb::Cache> block_cache) {
  if (block_cache == nullptr) block_cache = rocksdb::NewLRUCache(4 << 20);
  rocksdb::Options options = CommonOptions(env, std::move(block_cache));
  options.max_open_files = max_open_files;
  return options;
}

namespace {

// RocksDB's own wording, made readable: a status without a message ("NotFound: " for a
// missing folder) says what is missing, and its "too short to be an sstable" message,
// which runs the file name on without a separator, gets one.
std::string Describe(const rocksdb::Status& status) {
  std::string text = status.ToString();
  if (status.getState() == nullptr || *status.getState() == '\0') {
    absl::StrAppend(&text, status.IsNotFound() || status.IsPathNotFound() ? "no such file or directory" : "no detail");
  }
  const std::string run_on = "to be an sstable/";
  if (const size_t at = text.find(run_on); at != std::string::npos) text.insert(at + run_on.size() - 1, ": ");
  return text;
}

}  // namespace

absl::Status FromRocksDb(const rocksdb::Status& status, const std::string& context) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(context, ": ", Describe(status));
  switch (status.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(message);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    case rocksdb::Status::kIOError:
      if (status.subcode() == rocksdb::Status::kPathNotFound) return absl::NotFoundError(message);
      return absl::UnavailableError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
      return absl::UnavailableError(message);
    case rocksdb::Status::kAborted:
      return absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

}  // namespace cloze::data
