#include "data/shard_testing.h"

#include <filesystem>

#include "gtest/gtest.h"

namespace cloze::data::testing {
namespace {

class FaultInjectingFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultInjectingFile(std::unique_ptr<rocksdb::FSWritableFile> file, const FaultInjectingFileSystem* fs)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    if (fs_->fail_appends) return rocksdb::IOStatus::NoSpace("injected: no space left");
    return FSWritableFileOwnerWrapper::Append(data, options, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    if (fs_->fail_appends) return rocksdb::IOStatus::NoSpace("injected: no space left");
    return FSWritableFileOwnerWrapper::Append(data, options, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (fs_->fail_syncs) return rocksdb::IOStatus::IOError("injected: sync failed");
    return FSWritableFileOwnerWrapper::Sync(options, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    if (fs_->fail_syncs) return rocksdb::IOStatus::IOError("injected: fsync failed");
    return FSWritableFileOwnerWrapper::Fsync(options, dbg);
  }

 private:
  const FaultInjectingFileSystem* fs_;
};

}  // namespace

std::string FreshDir(const std::string& name) {
  std::string dir = ::testing::TempDir();  // ends with '/'
  if (dir.empty() || dir.back() != '/') dir += '/';
  dir += name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

Example MakeExample(int64_t tag) {
  Example e;
  const int length = 9 + static_cast<int>(tag % 49);  // 9 .. 57 <= kMaxSeqLength
  for (int t = 0; t < length; ++t) e.add_input_ids(static_cast<int32_t>((tag * 31 + t * 7) % kVocabSize));
  e.set_segment_b_start(1 + static_cast<int>(tag % (length - 1)));
  const int predictions = static_cast<int>(tag % (kMaxPredictions + 1));
  for (int i = 0; i < predictions; ++i) {
    e.add_masked_positions(1 + i * (length - 1) / kMaxPredictions);
    e.add_masked_labels(static_cast<int32_t>((tag + i) % kVocabSize));
  }
  e.set_sentence_label(static_cast<int32_t>(tag % 2));
  return e;
}

ShardSpec TestSpec(int shard_index, int shard_count) {
  ShardSpec spec;
  spec.shard_index = shard_index;
  spec.shard_count = shard_count;
  spec.tokenizer_fingerprint = kFingerprint;
  spec.data_config.set_tokenizer("spm:/models/test.model");
  spec.data_config.set_max_seq_length(kMaxSeqLength);
  spec.data_config.set_max_predictions_per_seq(kMaxPredictions);
  spec.data_config.set_shards(shard_count);
  spec.vocab_size = kVocabSize;
  return spec;
}

absl::Status WriteDataset(const std::string& dir, const std::vector<int64_t>& sizes,
                          const std::string& fingerprint) {
  int64_t global = 0;
  for (int s = 0; s < static_cast<int>(sizes.size()); ++s) {
    ShardSpec spec = TestSpec(s, static_cast<int>(sizes.size()));
    spec.tokenizer_fingerprint = fingerprint;
    absl::StatusOr<std::unique_ptr<ShardWriter>> writer = ShardWriter::Create(dir, spec);
    if (!writer.ok()) return writer.status();
    for (int64_t j = 0; j < sizes[s]; ++j) {
      if (absl::Status status = (*writer)->Append(MakeExample(global++)); !status.ok()) return status;
    }
    if (absl::Status status = (*writer)->Finish().status(); !status.ok()) return status;
  }
  return absl::OkStatus();
}

FaultInjectingFileSystem::FaultInjectingFileSystem()
    : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}

rocksdb::IOStatus FaultInjectingFileSystem::NewWritableFile(const std::string& name,
                                                            const rocksdb::FileOptions& options,
                                                            std::unique_ptr<rocksdb::FSWritableFile>* file,
                                                            rocksdb::IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSWritableFile> real;
  rocksdb::IOStatus status = target()->NewWritableFile(name, options, &real, dbg);
  if (status.ok()) *file = std::make_unique<FaultInjectingFile>(std::move(real), this);
  return status;
}

rocksdb::IOStatus FaultInjectingFileSystem::RenameFile(const std::string& from, const std::string& to,
                                                       const rocksdb::IOOptions& options,
                                                       rocksdb::IODebugContext* dbg) {
  if (fail_renames) return rocksdb::IOStatus::IOError("injected: rename failed");
  return target()->RenameFile(from, to, options, dbg);
}

FaultInjectingEnv::FaultInjectingEnv()
    : fs(std::make_shared<FaultInjectingFileSystem>()), env(rocksdb::NewCompositeEnv(fs)) {}

}  // namespace cloze::data::testing
