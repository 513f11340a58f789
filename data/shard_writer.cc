#include "data/shard_writer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "data/shard_example.h"
#include "data/shard_format.h"
#include "data/shard_options.h"

namespace cloze::data {
namespace {

absl::Status CheckSpec(const ShardSpec& spec) {
  if (spec.shard_count < 1 || spec.shard_count > kMaxShardCount) {
    return absl::InvalidArgumentError(
        absl::StrCat("ShardSpec.shard_count: ", spec.shard_count, " is outside [1, ", kMaxShardCount, "]"));
  }
  if (spec.shard_index < 0 || spec.shard_index >= spec.shard_count) {
    return absl::InvalidArgumentError(
        absl::StrCat("ShardSpec.shard_index: ", spec.shard_index, " is outside [0, ", spec.shard_count, ")"));
  }
  if (spec.tokenizer_fingerprint.empty()) {
    return absl::InvalidArgumentError("ShardSpec.tokenizer_fingerprint: is empty");
  }
  if (spec.vocab_size <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ShardSpec.vocab_size: must be positive, got ", spec.vocab_size));
  }
  return absl::OkStatus();
}

// Deletes a partial shard directory: the database's files, then the directory.
rocksdb::Status RemovePartial(const std::string& path, rocksdb::Env* env) {
  if (env->FileExists(path).IsNotFound()) return rocksdb::Status::OK();
  rocksdb::Status status = rocksdb::DestroyDB(path, ShardWriteOptions(env));
  if (!status.ok()) return status;
  if (env->FileExists(path).IsNotFound()) return rocksdb::Status::OK();
  return env->DeleteDir(path);
}

}  // namespace

ShardWriter::ShardWriter(std::string dataset_dir, ShardSpec spec, ShardWriterOptions options)
    : dataset_dir_(std::move(dataset_dir)),
      spec_(std::move(spec)),
      options_(options),
      env_(EnvOrDefault(options.env)),
      final_path_(absl::StrCat(dataset_dir_, "/", ShardDirName(spec_.shard_index, spec_.shard_count))),
      partial_path_(absl::StrCat(dataset_dir_, "/", ShardTempDirName(spec_.shard_index, spec_.shard_count))) {}

absl::StatusOr<std::unique_ptr<ShardWriter>> ShardWriter::Create(const std::string& dataset_dir,
                                                                 const ShardSpec& spec,
                                                                 const ShardWriterOptions& options) {
  if (absl::Status s = CheckSpec(spec); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("dataset ", dataset_dir, ": ", s.message()));
  }
  std::unique_ptr<ShardWriter> writer(new ShardWriter(dataset_dir, spec, options));
  rocksdb::Env* env = writer->env_;
  if (absl::Status s = FromRocksDb(env->CreateDirIfMissing(dataset_dir), absl::StrCat("dataset ", dataset_dir));
      !s.ok()) {
    return s;
  }
  if (env->FileExists(writer->final_path_).ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("shard ", writer->final_path_, " already exists; a finished shard is never overwritten"));
  }
  const std::string context = absl::StrCat("partial shard ", writer->partial_path_);
  if (absl::Status s = FromRocksDb(RemovePartial(writer->partial_path_, env), context); !s.ok()) return s;
  rocksdb::DB* db = nullptr;
  if (absl::Status s = FromRocksDb(rocksdb::DB::Open(ShardWriteOptions(env, options.write_buffer_bytes), writer->partial_path_, &db), context);
      !s.ok()) {
    return s;
  }
  writer->db_.reset(db);
  return writer;
}

ShardWriter::~ShardWriter() {
  // Errors cannot be reported from here; an unpublished directory is garbage either way,
  // and the next Create of this shard removes whatever is left.
  (void)CloseDb();
  if (!published_) (void)RemovePartial(partial_path_, env_);
}

absl::Status ShardWriter::Fail(absl::Status status) {
  failure_ = status;
  return status;
}

absl::Status ShardWriter::Commit() {
  if (batch_.Count() == 0) return absl::OkStatus();
  rocksdb::WriteOptions write;
  write.disableWAL = true;
  absl::Status s = FromRocksDb(db_->Write(write, &batch_), absl::StrCat("shard ", partial_path_, ": write"));
  batch_.Clear();
  return s.ok() ? s : Fail(s);
}

absl::Status ShardWriter::CloseDb() {
  if (db_ == nullptr) return absl::OkStatus();
  absl::Status s = FromRocksDb(db_->Close(), absl::StrCat("shard ", partial_path_, ": close"));
  db_.reset();
  return s;
}

absl::Status ShardWriter::Append(const Example& example) {
  if (!failure_.ok()) return failure_;
  if (finish_called_) {
    return absl::FailedPreconditionError(absl::StrCat("shard ", final_path_, ": Append after Finish"));
  }
  const ExampleLimits limits{spec_.data_config.max_seq_length(), spec_.data_config.max_predictions_per_seq(),
                             spec_.vocab_size};
  if (absl::Status s = ValidateExample(example, limits); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("shard ", final_path_, ": example ", example_count_, ": ", s.message()));
  }
  const std::string key = ExampleKey(example_count_);
  const std::string value = example.SerializeAsString();
  if (absl::Status s = FromRocksDb(batch_.Put(key, value), absl::StrCat("shard ", partial_path_, ": batch"));
      !s.ok()) {
    return Fail(s);
  }
  hasher_.AddRecord(key, value);
  ++example_count_;
  if (batch_.GetDataSize() >= options_.batch_bytes) return Commit();
  return absl::OkStatus();
}

absl::StatusOr<ShardMetadata> ShardWriter::Finish(const CorpusCounts& corpus) {
  if (!failure_.ok()) return failure_;
  if (finish_called_) return absl::FailedPreconditionError(absl::StrCat("shard ", final_path_, ": Finish twice"));
  finish_called_ = true;
  ShardMetadata metadata;
  metadata.set_format_version(kShardFormatVersion);
  metadata.set_shard_index(spec_.shard_index);
  metadata.set_shard_count(spec_.shard_count);
  metadata.set_example_count(example_count_);
  metadata.set_tokenizer_fingerprint(spec_.tokenizer_fingerprint);
  *metadata.mutable_data_config() = spec_.data_config;
  metadata.set_content_sha256(hasher_.HexDigest());
  metadata.set_vocab_size(spec_.vocab_size);
  if (corpus.documents() > 0) *metadata.mutable_corpus() = corpus;
  const std::string context = absl::StrCat("shard ", partial_path_);
  if (absl::Status s = FromRocksDb(
          batch_.Put(rocksdb::Slice(kMetadataKey.data(), kMetadataKey.size()), metadata.SerializeAsString()),
          context);
      !s.ok()) {
    return Fail(s);
  }
  if (absl::Status s = Commit(); !s.ok()) return s;
  rocksdb::FlushOptions flush;
  flush.wait = true;
  // Flushing writes the memtables to SST files and syncs them and the MANIFEST.
  if (absl::Status s = FromRocksDb(db_->Flush(flush), absl::StrCat(context, ": flush")); !s.ok()) return Fail(s);
  if (absl::Status s = CloseDb(); !s.ok()) return Fail(s);
  if (absl::Status s = FromRocksDb(env_->RenameFile(partial_path_, final_path_),
                                   absl::StrCat(context, ": rename to ", final_path_));
      !s.ok()) {
    return Fail(s);
  }
  published_ = true;
  // The rename is durable only once the directory holding both names is synced.
  std::unique_ptr<rocksdb::Directory> dir;
  rocksdb::Status synced = env_->NewDirectory(dataset_dir_, &dir);
  if (synced.ok()) synced = dir->Fsync();
  if (absl::Status s =
          FromRocksDb(synced, absl::StrCat("dataset ", dataset_dir_, ": sync after publishing ", final_path_));
      !s.ok()) {
    return Fail(s);
  }
  return metadata;
}

}  // namespace cloze::data
