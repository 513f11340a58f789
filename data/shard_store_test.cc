// The shard writer and reader against real RocksDB databases under TEST_TMPDIR.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "data/shard_format.h"
#include "data/shard_hash.h"
#include "data/shard_options.h"
#include "data/shard_reader.h"
#include "data/shard_testing.h"
#include "data/shard_writer.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/table_properties.h"

namespace cloze::data {
namespace {

namespace fs = std::filesystem;
using testing::FreshDir;
using testing::MakeExample;
using testing::TestSpec;

bool Same(const Example& a, const Example& b) { return a.SerializeAsString() == b.SerializeAsString(); }

// Writes examples MakeExample(0 .. count - 1) as shard `index` of `shard_count`.
ShardMetadata WriteShard(const std::string& dir, int index, int shard_count, int64_t count,
                         ShardWriterOptions options = {}) {
  absl::StatusOr<std::unique_ptr<ShardWriter>> writer =
      ShardWriter::Create(dir, TestSpec(index, shard_count), options);
  EXPECT_TRUE(writer.ok()) << writer.status();
  if (!writer.ok()) return {};
  for (int64_t i = 0; i < count; ++i) EXPECT_TRUE((*writer)->Append(MakeExample(i)).ok());
  absl::StatusOr<ShardMetadata> metadata = (*writer)->Finish();
  EXPECT_TRUE(metadata.ok()) << metadata.status();
  return metadata.ok() ? *metadata : ShardMetadata();
}

// Changes records of a finished shard behind the reader's back, as a bug or a disk might.
void PutRaw(const std::string& shard, const std::string& key, const std::string& value) {
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), shard, &db).ok());
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, value).ok());
  delete db;
}

void DeleteRaw(const std::string& shard, const std::string& key) {
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), shard, &db).ok());
  ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), key).ok());
  delete db;
}

std::vector<std::string> SstFiles(const std::string& shard) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(shard)) {
    if (entry.path().extension() == ".sst") files.push_back(entry.path().string());
  }
  return files;
}

void FlipByte(const std::string& file, std::streamoff offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(offset);
  char c = 0;
  f.get(c);
  f.seekp(offset);
  f.put(static_cast<char>(c ^ 0x5a));
}

TEST(ShardFormat, KeysAreBigEndianAndTheMetadataKeySortsLast) {
  EXPECT_EQ(ExampleKey(1), std::string("\0\0\0\0\0\0\0\x01", 8));
  EXPECT_EQ(ExampleKey(0x0102030405060708), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  EXPECT_LT(ExampleKey(255), ExampleKey(256));  // bytewise order is numeric order
  EXPECT_LT(ExampleKey(INT64_MAX), std::string(kMetadataKey));
  EXPECT_EQ(ParseExampleKey(ExampleKey(123456789)), 123456789);
  EXPECT_FALSE(ParseExampleKey(kMetadataKey).has_value());
  EXPECT_FALSE(ParseExampleKey(std::string(8, '\xff')).has_value());  // >= 2^63
  EXPECT_EQ(DescribeKey(ExampleKey(17)), "example 17 (key 0x0000000000000011)");
}

TEST(ShardFormat, DirectoryNames) {
  EXPECT_EQ(ShardDirName(3, 10), "shard-00003-of-00010");
  std::optional<ShardName> name = ParseShardDirName("shard-00003-of-00010");
  ASSERT_TRUE(name.has_value());
  EXPECT_EQ(name->index, 3);
  EXPECT_EQ(name->count, 10);
  EXPECT_FALSE(ParseShardDirName(ShardTempDirName(3, 10)).has_value());
  EXPECT_FALSE(ParseShardDirName("shard-00010-of-00010").has_value());
  EXPECT_FALSE(ParseShardDirName("shard-3-of-10").has_value());
  EXPECT_FALSE(ParseShardDirName("shard-0000a-of-00010").has_value());
}

TEST(ShardHash, MatchesTheSha256TestVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ShardStore, RoundTrip) {
  const std::string dir = FreshDir("round_trip");
  ShardWriterOptions options;
  options.batch_bytes = 1024;  // many write batches
  const ShardMetadata written = WriteShard(dir, 2, 5, 300, options);
  EXPECT_EQ(written.example_count(), 300);
  EXPECT_EQ(written.format_version(), kShardFormatVersion);

  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(dir + "/shard-00002-of-00005");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->metadata().SerializeAsString(), written.SerializeAsString());
  EXPECT_EQ((*reader)->metadata().shard_index(), 2);
  EXPECT_EQ((*reader)->metadata().shard_count(), 5);
  EXPECT_EQ((*reader)->metadata().tokenizer_fingerprint(), testing::kFingerprint);
  EXPECT_EQ((*reader)->metadata().data_config().max_seq_length(), testing::kMaxSeqLength);
  for (int64_t i = 0; i < 300; ++i) {
    absl::StatusOr<Example> example = (*reader)->Get(i);
    ASSERT_TRUE(example.ok()) << example.status();
    EXPECT_TRUE(Same(*example, MakeExample(i))) << i;
  }
  EXPECT_TRUE((*reader)->VerifyContent().ok());
  EXPECT_EQ((*reader)->Get(300).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ((*reader)->Get(-1).status().code(), absl::StatusCode::kOutOfRange);
  // Only the final shard remains: no partial directory.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir), fs::directory_iterator()), 1);
}

TEST(ShardStore, ContentHashFollowsTheDocumentedEncoding) {
  const std::string dir = FreshDir("hash_encoding");
  const ShardMetadata written = WriteShard(dir, 0, 1, 20);
  std::string bytes;
  for (int64_t i = 0; i < 20; ++i) {
    const std::string value = MakeExample(i).SerializeAsString();
    bytes += ExampleKey(i) + ExampleKey(static_cast<int64_t>(value.size())) + value;
  }
  EXPECT_EQ(written.content_sha256(), Sha256Hex(bytes));
}

TEST(ShardStore, BlocksAreCompressed) {
  const std::string dir = FreshDir("compressed");
  WriteShard(dir, 0, 1, 500);
  rocksdb::DB* raw = nullptr;
  const std::string shard = dir + "/shard-00000-of-00001";
  ASSERT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), shard, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::TablePropertiesCollection tables;
  ASSERT_TRUE(db->GetPropertiesOfAllTables(&tables).ok());
  ASSERT_FALSE(tables.empty());
  ASSERT_NE(ShardCompression(), rocksdb::kNoCompression);
  for (const auto& [file, properties] : tables) {
    EXPECT_NE(properties->compression_name, "NoCompression") << file;
    EXPECT_LT(properties->data_size, properties->raw_key_size + properties->raw_value_size) << file;
  }
}

TEST(ShardStore, EmptyShardIsExplicit) {
  const std::string dir = FreshDir("empty");
  EXPECT_EQ(WriteShard(dir, 0, 1, 0).example_count(), 0);
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(dir + "/shard-00000-of-00001");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->size(), 0);
  EXPECT_TRUE((*reader)->VerifyContent().ok());
}

TEST(ShardStore, InvalidExampleIsRefusedAndTheWriterStaysUsable) {
  const std::string dir = FreshDir("invalid_example");
  absl::StatusOr<std::unique_ptr<ShardWriter>> writer = ShardWriter::Create(dir, TestSpec(0, 1));
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Append(MakeExample(0)).ok());
  Example too_long = MakeExample(1);
  for (int i = 0; i < testing::kMaxSeqLength; ++i) too_long.add_input_ids(5);
  absl::Status refused = (*writer)->Append(too_long);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.message(), "shard-00000-of-00001: example 1: Example.input_ids"))
      << refused;
  ASSERT_TRUE((*writer)->Append(MakeExample(1)).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(dir + "/shard-00000-of-00001");
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->size(), 2);
  EXPECT_TRUE(Same(*(*reader)->Get(1), MakeExample(1)));
}

TEST(ShardStore, BadSpecsAreRefused) {
  const std::string dir = FreshDir("bad_spec");
  ShardSpec spec = TestSpec(3, 3);
  EXPECT_EQ(ShardWriter::Create(dir, spec).status().code(), absl::StatusCode::kInvalidArgument);
  spec = TestSpec(0, 1);
  spec.tokenizer_fingerprint.clear();
  absl::Status s = ShardWriter::Create(dir, spec).status();
  EXPECT_TRUE(absl::StrContains(s.message(), "tokenizer_fingerprint")) << s;
  spec = TestSpec(0, 1);
  spec.vocab_size = 0;
  EXPECT_EQ(ShardWriter::Create(dir, spec).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ShardStore, FinishedShardIsNeverOverwritten) {
  const std::string dir = FreshDir("no_overwrite");
  WriteShard(dir, 0, 1, 10);
  absl::Status s = ShardWriter::Create(dir, TestSpec(0, 1)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kAlreadyExists) << s;
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(dir + "/shard-00000-of-00001");
  ASSERT_TRUE(reader.ok());
  EXPECT_TRUE((*reader)->VerifyContent().ok());
}

TEST(ShardStore, WriterDestroyedBeforeFinishLeavesNothing) {
  const std::string dir = FreshDir("abandoned");
  {
    ShardWriterOptions options;
    options.batch_bytes = 256;
    absl::StatusOr<std::unique_ptr<ShardWriter>> writer = ShardWriter::Create(dir, TestSpec(0, 1), options);
    ASSERT_TRUE(writer.ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*writer)->Append(MakeExample(i)).ok());
    EXPECT_TRUE(fs::exists(dir + "/" + ShardTempDirName(0, 1)));
  }
  EXPECT_FALSE(fs::exists(dir + "/shard-00000-of-00001"));
  EXPECT_FALSE(fs::exists(dir + "/" + ShardTempDirName(0, 1)));
  EXPECT_FALSE(ShardReader::Open(dir + "/shard-00000-of-00001").ok());
}

// A process killed before Finish leaves a partial directory: never a shard, and the next
// writer of that shard replaces it.
TEST(ShardStore, CrashBeforeFinishIsNotAShard) {
  const std::string dir = FreshDir("crash");
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        ShardWriterOptions options;
        options.batch_bytes = 256;
        absl::StatusOr<std::unique_ptr<ShardWriter>> writer = ShardWriter::Create(dir, TestSpec(0, 1), options);
        if (!writer.ok()) std::_Exit(1);
        for (int i = 0; i < 50; ++i) {
          if (!(*writer)->Append(MakeExample(i)).ok()) std::_Exit(2);
        }
        std::_Exit(0);  // the crash: no destructor, no Finish
      },
      ::testing::ExitedWithCode(0), "");
  EXPECT_TRUE(fs::exists(dir + "/" + ShardTempDirName(0, 1)));
  EXPECT_FALSE(fs::exists(dir + "/shard-00000-of-00001"));
  EXPECT_EQ(ShardReader::Open(dir + "/" + ShardTempDirName(0, 1)).status().code(),
            absl::StatusCode::kInvalidArgument);

  WriteShard(dir, 0, 1, 5);
  EXPECT_FALSE(fs::exists(dir + "/" + ShardTempDirName(0, 1)));
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(dir + "/shard-00000-of-00001");
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->size(), 5);
  EXPECT_TRUE((*reader)->VerifyContent().ok());
}

// Storage failures during Finish publish nothing, are sticky, and leave finished shards valid.
TEST(ShardStore, FailuresDuringFinishPublishNothing) {
  for (const char* fault : {"appends", "syncs", "renames"}) {
    SCOPED_TRACE(fault);
    const std::string dir = FreshDir(std::string("faults_") + fault);
    testing::FaultInjectingEnv faulty;
    ShardWriterOptions options;
    options.env = faulty.env.get();
    WriteShard(dir, 0, 2, 40, options);

    absl::StatusOr<std::unique_ptr<ShardWriter>> writer = ShardWriter::Create(dir, TestSpec(1, 2), options);
    ASSERT_TRUE(writer.ok()) << writer.status();
    for (int i = 0; i < 40; ++i) ASSERT_TRUE((*writer)->Append(MakeExample(i)).ok());
    std::atomic<bool>& flag = std::string(fault) == "appends" ? faulty.fs->fail_appends
                              : std::string(fault) == "syncs" ? faulty.fs->fail_syncs
                                                              : faulty.fs->fail_renames;
    flag = true;
    absl::StatusOr<ShardMetadata> finished = (*writer)->Finish();
    EXPECT_FALSE(finished.ok());
    EXPECT_TRUE(absl::StrContains(finished.status().message(), ShardTempDirName(1, 2))) << finished.status();
    EXPECT_FALSE((*writer)->Append(MakeExample(0)).ok());  // sticky
    writer->reset();
    flag = false;

    EXPECT_FALSE(fs::exists(dir + "/shard-00001-of-00002"));
    absl::StatusOr<std::unique_ptr<ShardReader>> first = ShardReader::Open(dir + "/shard-00000-of-00002");
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_TRUE((*first)->VerifyContent().ok());
    // With the fault gone the shard can be written again.
    WriteShard(dir, 1, 2, 3, options);
    EXPECT_TRUE(ShardReader::Open(dir + "/shard-00001-of-00002").ok());
  }
}

TEST(ShardStore, TokenizerFingerprintMismatchNamesShardAndBoth) {
  const std::string dir = FreshDir("fingerprint");
  WriteShard(dir, 0, 1, 3);
  ShardReaderOptions options;
  options.expected_tokenizer_fingerprint = "wordpiece:sha256=ffff";
  absl::Status s = ShardReader::Open(dir + "/shard-00000-of-00001", options).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(s.message(), "shard-00000-of-00001")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), testing::kFingerprint)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "wordpiece:sha256=ffff")) << s;
  options.expected_tokenizer_fingerprint = testing::kFingerprint;
  EXPECT_TRUE(ShardReader::Open(dir + "/shard-00000-of-00001", options).ok());
}

TEST(ShardStore, MetadataIsCheckedOnOpen) {
  const std::string dir = FreshDir("metadata");
  const ShardMetadata good = WriteShard(dir, 0, 2, 10);
  const std::string shard = dir + "/shard-00000-of-00002";
  const std::string key(kMetadataKey);
  struct Case {
    const char* name;
    std::function<void(ShardMetadata&)> change;
    absl::StatusCode code;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {"format", [](ShardMetadata& m) { m.set_format_version(2); }, absl::StatusCode::kFailedPrecondition,
       "format_version"},
      {"index", [](ShardMetadata& m) { m.set_shard_index(1); }, absl::StatusCode::kDataLoss, "directory name"},
      {"count", [](ShardMetadata& m) { m.set_shard_count(3); }, absl::StatusCode::kDataLoss, "directory name"},
      {"more", [](ShardMetadata& m) { m.set_example_count(11); }, absl::StatusCode::kDataLoss, "example 10"},
      {"fewer", [](ShardMetadata& m) { m.set_example_count(9); }, absl::StatusCode::kDataLoss, "example 8"},
      {"none", [](ShardMetadata& m) { m.set_example_count(0); }, absl::StatusCode::kDataLoss, "first record"},
      {"negative", [](ShardMetadata& m) { m.set_example_count(-1); }, absl::StatusCode::kDataLoss,
       "example_count"},
      {"hash", [](ShardMetadata& m) { m.set_content_sha256("xyz"); }, absl::StatusCode::kDataLoss,
       "content_sha256"},
      {"tokenizer", [](ShardMetadata& m) { m.clear_tokenizer_fingerprint(); }, absl::StatusCode::kDataLoss,
       "tokenizer_fingerprint"},
      {"vocab", [](ShardMetadata& m) { m.set_vocab_size(0); }, absl::StatusCode::kDataLoss, "vocab_size"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ShardMetadata changed = good;
    c.change(changed);
    PutRaw(shard, key, changed.SerializeAsString());
    absl::Status s = ShardReader::Open(shard).status();
    EXPECT_EQ(s.code(), c.code) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), shard)) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), c.mentions)) << s;
  }
  PutRaw(shard, key, "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff");
  absl::Status s = ShardReader::Open(shard).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "metadata key")) << s;
  DeleteRaw(shard, key);
  s = ShardReader::Open(shard).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "metadata record")) << s;
  PutRaw(shard, key, good.SerializeAsString());
  EXPECT_TRUE(ShardReader::Open(shard).ok());

  EXPECT_EQ(ShardReader::Open(dir + "/not-a-shard").status().code(), absl::StatusCode::kInvalidArgument);
  s = ShardReader::Open(dir + "/shard-00001-of-00002").status();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), "shard-00001-of-00002")) << s;
}

TEST(ShardStore, VerifyContentDetectsAChangedRecord) {
  const std::string dir = FreshDir("changed_record");
  WriteShard(dir, 0, 1, 30);
  const std::string shard = dir + "/shard-00000-of-00001";
  // A well-formed example, only not the one written: Get cannot tell, the hash can.
  PutRaw(shard, ExampleKey(7), MakeExample(8).SerializeAsString());
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(shard);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::Status s = (*reader)->VerifyContent();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), shard)) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "content SHA-256")) << s;
}

TEST(ShardStore, VerifyContentNamesMissingAndExtraKeys) {
  const std::string dir = FreshDir("missing_key");
  WriteShard(dir, 0, 1, 30);
  const std::string shard = dir + "/shard-00000-of-00001";
  DeleteRaw(shard, ExampleKey(12));
  {
    absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(shard);
    ASSERT_TRUE(reader.ok()) << reader.status();
    absl::Status s = (*reader)->VerifyContent();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "example 12 (key 0x000000000000000c) is missing")) << s;
    s = (*reader)->Get(12).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), shard + ": example 12")) << s;
  }
  PutRaw(shard, ExampleKey(12), MakeExample(12).SerializeAsString());
  // 9 bytes: sorts between examples 5 and 6, so only the full scan sees it.
  PutRaw(shard, ExampleKey(5) + "x", "stray");
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(shard);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::Status s = (*reader)->VerifyContent();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "unknown key 0x000000000000000578")) << s;
}

TEST(ShardStore, GarbageValueNamesShardAndKey) {
  const std::string dir = FreshDir("garbage_value");
  WriteShard(dir, 0, 1, 30);
  const std::string shard = dir + "/shard-00000-of-00001";
  PutRaw(shard, ExampleKey(5), "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff");
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(shard);
  ASSERT_TRUE(reader.ok()) << reader.status();
  absl::Status s = (*reader)->Get(5).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), shard + ": example 5 (key 0x0000000000000005)")) << s;
  EXPECT_TRUE((*reader)->Get(4).ok());
  EXPECT_EQ((*reader)->VerifyContent().code(), absl::StatusCode::kDataLoss);
}

// A flipped byte in the middle of the table hits a data block: the Get of a key stored
// there fails with RocksDB's checksum error, naming the shard and the key.
TEST(ShardStore, CorruptBlockNamesShardAndKey) {
  const std::string dir = FreshDir("corrupt_block");
  WriteShard(dir, 0, 1, 2000);
  const std::string shard = dir + "/shard-00000-of-00001";
  const std::vector<std::string> tables = SstFiles(shard);
  ASSERT_EQ(tables.size(), 1u);
  FlipByte(tables[0], static_cast<std::streamoff>(fs::file_size(tables[0]) / 3));
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(shard);
  ASSERT_TRUE(reader.ok()) << reader.status();
  int failures = 0;
  for (int64_t i = 0; i < 2000; ++i) {
    absl::StatusOr<Example> example = (*reader)->Get(i);
    if (example.ok()) {
      EXPECT_TRUE(Same(*example, MakeExample(i))) << i;
      continue;
    }
    ++failures;
    EXPECT_EQ(example.status().code(), absl::StatusCode::kDataLoss) << example.status();
    EXPECT_TRUE(absl::StrContains(example.status().message(), shard + ": " + DescribeKey(ExampleKey(i))))
        << example.status();
    EXPECT_TRUE(absl::StrContains(example.status().message(), "Corruption")) << example.status();
  }
  EXPECT_GT(failures, 0);
  EXPECT_LT(failures, 2000);
  absl::Status s = (*reader)->VerifyContent();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), shard)) << s;
}

// Any single flipped byte anywhere in the table: never a crash and never a wrong example;
// either an error naming the shard, or the original data.
TEST(ShardStore, NoFlippedByteCrashesOrGoesUnnoticed) {
  const std::string dir = FreshDir("flip_everywhere");
  WriteShard(dir, 0, 1, 200);
  const std::string shard = dir + "/shard-00000-of-00001";
  const std::vector<std::string> tables = SstFiles(shard);
  ASSERT_EQ(tables.size(), 1u);
  const auto size = static_cast<std::streamoff>(fs::file_size(tables[0]));
  int detected = 0;
  int tried = 0;
  for (std::streamoff offset = 0; offset < size; offset += 1 + size / 150, ++tried) {
    FlipByte(tables[0], offset);
    absl::Status first_error;
    absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(shard);
    if (!reader.ok()) {
      first_error = reader.status();
    } else {
      for (int64_t i = 0; i < 200 && first_error.ok(); ++i) {
        absl::StatusOr<Example> example = (*reader)->Get(i);
        if (!example.ok()) {
          first_error = example.status();
        } else {
          ASSERT_TRUE(Same(*example, MakeExample(i))) << "offset " << offset << " example " << i;
        }
      }
      if (first_error.ok()) first_error = (*reader)->VerifyContent();
    }
    if (!first_error.ok()) {
      ++detected;
      EXPECT_TRUE(absl::StrContains(first_error.message(), shard)) << "offset " << offset << ": " << first_error;
    }
    reader = absl::InternalError("closed");  // release the files before restoring the byte
    FlipByte(tables[0], offset);
  }
  EXPECT_GT(tried, 100);
  EXPECT_GT(detected, tried / 2);
  absl::StatusOr<std::unique_ptr<ShardReader>> restored = ShardReader::Open(shard);
  ASSERT_TRUE(restored.ok());
  EXPECT_TRUE((*restored)->VerifyContent().ok());
}

TEST(ShardStore, TruncatedTableIsAnErrorNamingTheShard) {
  const std::string dir = FreshDir("truncated");
  WriteShard(dir, 0, 1, 500);
  const std::string shard = dir + "/shard-00000-of-00001";
  const std::vector<std::string> tables = SstFiles(shard);
  ASSERT_EQ(tables.size(), 1u);
  fs::resize_file(tables[0], fs::file_size(tables[0]) / 2);
  absl::StatusOr<std::unique_ptr<ShardReader>> reader = ShardReader::Open(shard);
  absl::Status s = reader.ok() ? (*reader)->VerifyContent() : reader.status();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(absl::StrContains(s.message(), shard)) << s;
}

}  // namespace
}  // namespace cloze::data
