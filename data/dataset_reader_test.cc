// The dataset reader over real shards: layout checks, shuffle, resume and partitioning.
#include "data/dataset_reader.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "data/shard_format.h"
#include "data/shard_testing.h"
#include "data/shard_writer.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"

namespace cloze::data {
namespace {

namespace fs = std::filesystem;
using testing::FreshDir;
using testing::MakeExample;
using testing::WriteDataset;

bool Same(const Example& a, const Example& b) { return a.SerializeAsString() == b.SerializeAsString(); }

std::unique_ptr<DatasetReader> OpenOrDie(const std::string& dir, DatasetReaderOptions options = {}) {
  absl::StatusOr<std::unique_ptr<DatasetReader>> reader = DatasetReader::Open(dir, options);
  EXPECT_TRUE(reader.ok()) << reader.status();
  return reader.ok() ? *std::move(reader) : nullptr;
}

// A dataset of 5 + 0 + 7 + 3 = 15 examples, an empty shard among them, written once.
const std::string& SmallDataset() {
  static const std::string* dir = [] {
    auto* d = new std::string(FreshDir("small_dataset"));
    EXPECT_TRUE(WriteDataset(*d, {5, 0, 7, 3}).ok());
    return d;
  }();
  return *dir;
}

// Every returned example is the one at its (epoch, position) of the order, and holds the
// data written for its global index.
void ExpectConsistent(DatasetReader& reader, const std::vector<DatasetExample>& read) {
  for (const DatasetExample& e : read) {
    EXPECT_EQ(e.index, reader.IndexAt(e.epoch, e.position));
    EXPECT_TRUE(Same(e.example, MakeExample(e.index))) << e.index;
  }
}

// Stream position of an example: epoch * N + position.
int64_t StreamPosition(const DatasetExample& e, int64_t n) { return e.epoch * n + e.position; }

TEST(DatasetReader, GlobalIndexIsShardMajor) {
  std::unique_ptr<DatasetReader> reader = OpenOrDie(SmallDataset());
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), 15);
  EXPECT_EQ(reader->shard_count(), 4);
  EXPECT_EQ(reader->shard_metadata(2).example_count(), 7);
  for (int64_t i = 0; i < 15; ++i) {
    absl::StatusOr<Example> example = reader->Get(i);
    ASSERT_TRUE(example.ok()) << example.status();
    EXPECT_TRUE(Same(*example, MakeExample(i))) << i;
  }
  EXPECT_EQ(reader->Get(15).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_TRUE(reader->VerifyContent().ok());
}

TEST(DatasetReader, FewOpenShardsGiveTheSameExamples) {
  DatasetReaderOptions options;
  options.max_open_shards = 1;
  std::unique_ptr<DatasetReader> reader = OpenOrDie(SmallDataset(), options);
  ASSERT_NE(reader, nullptr);
  for (int round = 0; round < 2; ++round) {
    for (int64_t i : {0, 14, 5, 12, 1, 11}) {
      absl::StatusOr<Example> example = reader->Get(i);
      ASSERT_TRUE(example.ok()) << example.status();
      EXPECT_TRUE(Same(*example, MakeExample(i))) << i;
    }
  }
  EXPECT_EQ(DatasetReader::Open(SmallDataset(), {.max_open_shards = 0}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(DatasetReader, OneEpochVisitsEveryExampleOnceThenRollsOver) {
  std::unique_ptr<DatasetReader> reader = OpenOrDie(SmallDataset());
  ASSERT_NE(reader, nullptr);
  absl::StatusOr<std::vector<DatasetExample>> read = reader->Next(0, 1, 20);
  ASSERT_TRUE(read.ok()) << read.status();
  ExpectConsistent(*reader, *read);
  std::vector<bool> seen(15, false);
  for (int k = 0; k < 15; ++k) {
    EXPECT_EQ((*read)[k].epoch, 0);
    EXPECT_EQ((*read)[k].position, k);
    EXPECT_FALSE(seen[(*read)[k].index]);
    seen[(*read)[k].index] = true;
  }
  for (int k = 15; k < 20; ++k) {
    EXPECT_EQ((*read)[k].epoch, 1);
    EXPECT_EQ((*read)[k].position, k - 15);
  }
  EXPECT_EQ(reader->cursor().epoch, 1);
  EXPECT_EQ(reader->cursor().position, 5);
  // Epoch 1 is shuffled differently from epoch 0 (15! orders: equal only by a bug).
  std::vector<int64_t> e0, e1;
  for (int64_t p = 0; p < 15; ++p) {
    e0.push_back(reader->IndexAt(0, p));
    e1.push_back(reader->IndexAt(1, p));
  }
  EXPECT_NE(e0, e1);
}

TEST(DatasetReader, SeedChangesTheOrderAndTheFingerprint) {
  std::unique_ptr<DatasetReader> a = OpenOrDie(SmallDataset(), {.seed = 1});
  std::unique_ptr<DatasetReader> b = OpenOrDie(SmallDataset(), {.seed = 2});
  std::unique_ptr<DatasetReader> a2 = OpenOrDie(SmallDataset(), {.seed = 1});
  ASSERT_TRUE(a && b && a2);
  std::vector<int64_t> oa, ob, oa2;
  for (int64_t p = 0; p < 15; ++p) {
    oa.push_back(a->IndexAt(0, p));
    ob.push_back(b->IndexAt(0, p));
    oa2.push_back(a2->IndexAt(0, p));
  }
  EXPECT_NE(oa, ob);
  EXPECT_EQ(oa, oa2);
  EXPECT_NE(a->order_fingerprint(), b->order_fingerprint());
  EXPECT_EQ(a->order_fingerprint(), a2->order_fingerprint());
  // A cursor of one order is refused by the other.
  absl::Status s = b->Seek(a->cursor());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(a2->Seek(a->cursor()).ok());
}

TEST(DatasetReader, ResumeEqualsUninterrupted) {
  std::unique_ptr<DatasetReader> straight = OpenOrDie(SmallDataset(), {.seed = 9});
  ASSERT_NE(straight, nullptr);
  std::vector<int64_t> expected;
  for (int step = 0; step < 7; ++step) {
    absl::StatusOr<std::vector<DatasetExample>> read = straight->Next(0, 1, 4);
    ASSERT_TRUE(read.ok()) << read.status();
    for (const DatasetExample& e : *read) expected.push_back(e.index);
  }
  std::vector<int64_t> resumed;
  DatasetCursor saved;
  {
    std::unique_ptr<DatasetReader> first = OpenOrDie(SmallDataset(), {.seed = 9});
    for (int step = 0; step < 3; ++step) {
      absl::StatusOr<std::vector<DatasetExample>> read = first->Next(0, 1, 4);
      ASSERT_TRUE(read.ok()) << read.status();
      for (const DatasetExample& e : *read) resumed.push_back(e.index);
    }
    saved = first->cursor();
  }
  EXPECT_EQ(saved.epoch, 0);
  EXPECT_EQ(saved.position, 12);
  std::unique_ptr<DatasetReader> second = OpenOrDie(SmallDataset(), {.seed = 9});
  ASSERT_TRUE(second->Seek(saved).ok());
  for (int step = 0; step < 4; ++step) {
    absl::StatusOr<std::vector<DatasetExample>> read = second->Next(0, 1, 4);
    ASSERT_TRUE(read.ok());
    ExpectConsistent(*second, *read);
    for (const DatasetExample& e : *read) resumed.push_back(e.index);
  }
  EXPECT_EQ(resumed, expected);
  EXPECT_EQ(second->cursor().epoch, straight->cursor().epoch);
  EXPECT_EQ(second->cursor().position, straight->cursor().position);
}

// Runs `steps` steps of `world` ranks, each rank with its own reader from `start`; returns
// how often each stream position was read and the common cursor afterwards.
DatasetCursor RunRanks(const std::string& dir, const DatasetCursor& start, int world, int count, int steps,
                       std::map<int64_t, int>& reads) {
  std::vector<std::unique_ptr<DatasetReader>> ranks;
  for (int r = 0; r < world; ++r) {
    ranks.push_back(OpenOrDie(dir, {.seed = 5}));
    EXPECT_TRUE(ranks.back()->Seek(start).ok());
  }
  for (int step = 0; step < steps; ++step) {
    for (int r = 0; r < world; ++r) {
      absl::StatusOr<std::vector<DatasetExample>> read = ranks[r]->Next(r, world, count);
      EXPECT_TRUE(read.ok()) << read.status();
      if (!read.ok()) continue;
      EXPECT_EQ(read->size(), static_cast<size_t>(count));
      ExpectConsistent(*ranks[r], *read);
      for (const DatasetExample& e : *read) ++reads[StreamPosition(e, ranks[r]->size())];
    }
  }
  for (int r = 1; r < world; ++r) {
    EXPECT_EQ(ranks[r]->cursor().epoch, ranks[0]->cursor().epoch);
    EXPECT_EQ(ranks[r]->cursor().position, ranks[0]->cursor().position);
  }
  return ranks[0]->cursor();
}

// Exactly the stream positions [0, total), each once.
void ExpectPrefixOnce(const std::map<int64_t, int>& reads, int64_t total) {
  EXPECT_EQ(static_cast<int64_t>(reads.size()), total);
  int64_t expected = 0;
  for (const auto& [position, times] : reads) {
    EXPECT_EQ(position, expected++);
    EXPECT_EQ(times, 1) << "stream position " << position;
  }
}

TEST(DatasetReader, RanksReadDisjointSlicesWhoseUnionIsAPrefix) {
  std::map<int64_t, int> reads;
  // 4 ranks x 2 examples = 8 per step over N = 15: steps straddle epoch boundaries.
  const DatasetCursor end = RunRanks(SmallDataset(), DatasetCursor{}, 4, 2, 6, reads);
  ExpectPrefixOnce(reads, 48);
  EXPECT_EQ(end.epoch, 3);
  EXPECT_EQ(end.position, 3);
}

// The defined behaviour on a world-size change: the resumed run continues at the same
// global stream position, so over both runs every position is read exactly once.
TEST(DatasetReader, WorldSizeChangeBetweenRunsReadsEveryPositionOnce) {
  for (const auto& [before, after] : std::vector<std::pair<int, int>>{{3, 2}, {2, 5}, {4, 1}}) {
    SCOPED_TRACE("world " + std::to_string(before) + " -> " + std::to_string(after));
    std::map<int64_t, int> reads;
    const DatasetCursor checkpoint = RunRanks(SmallDataset(), DatasetCursor{}, before, 3, 4, reads);
    EXPECT_EQ(checkpoint.epoch * 15 + checkpoint.position, before * 3 * 4);
    RunRanks(SmallDataset(), checkpoint, after, 3, 5, reads);
    ExpectPrefixOnce(reads, before * 3 * 4 + after * 3 * 5);
  }
}

TEST(DatasetReader, BadArgumentsAreRefused) {
  std::unique_ptr<DatasetReader> reader = OpenOrDie(SmallDataset());
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->Next(2, 2, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->Next(-1, 2, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->Next(0, 0, 1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->Next(0, 1, -1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->Seek({0, 15, ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->Seek({-1, 0, ""}).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(reader->cursor().position, 0);
}

TEST(DatasetReader, ShardsMustFormOneDataset) {
  {
    const std::string dir = FreshDir("missing_shard");
    ASSERT_TRUE(WriteDataset(dir, {2, 2, 2}).ok());
    fs::remove_all(dir + "/shard-00001-of-00003");
    absl::Status s = DatasetReader::Open(dir).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), dir + "/shard-00001-of-00003 is missing")) << s;
  }
  {
    const std::string dir = FreshDir("mixed_counts");
    ASSERT_TRUE(WriteDataset(dir, {2, 2}).ok());
    const std::string other = FreshDir("mixed_counts_other");
    ASSERT_TRUE(WriteDataset(other, {1, 1, 1}).ok());
    fs::rename(other + "/shard-00002-of-00003", dir + "/shard-00002-of-00003");
    absl::Status s = DatasetReader::Open(dir).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "shard-00002-of-00003")) << s;
  }
  {
    const std::string dir = FreshDir("mixed_tokenizers");
    ASSERT_TRUE(WriteDataset(dir, {2, 2}).ok());
    const std::string other = FreshDir("mixed_tokenizers_other");
    ASSERT_TRUE(WriteDataset(other, {2, 2}, "wordpiece:sha256=9999").ok());
    fs::remove_all(dir + "/shard-00001-of-00002");
    fs::rename(other + "/shard-00001-of-00002", dir + "/shard-00001-of-00002");
    absl::Status s = DatasetReader::Open(dir).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "tokenizer_fingerprint")) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "shard-00001-of-00002")) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "wordpiece:sha256=9999")) << s;
  }
  {
    const std::string dir = FreshDir("mixed_configs");
    ShardSpec spec = testing::TestSpec(0, 2);
    for (int s = 0; s < 2; ++s) {
      spec.shard_index = s;
      spec.data_config.set_seed(100 + s);
      auto writer = ShardWriter::Create(dir, spec);
      ASSERT_TRUE(writer.ok());
      ASSERT_TRUE((*writer)->Append(MakeExample(s)).ok());
      ASSERT_TRUE((*writer)->Finish().ok());
    }
    absl::Status s = DatasetReader::Open(dir).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    EXPECT_TRUE(absl::StrContains(s.message(), "data_config")) << s;
  }
  {
    const std::string dir = FreshDir("no_examples");
    ASSERT_TRUE(WriteDataset(dir, {0, 0}).ok());
    EXPECT_EQ(DatasetReader::Open(dir).status().code(), absl::StatusCode::kFailedPrecondition);
  }
  EXPECT_EQ(DatasetReader::Open(FreshDir("nothing")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(DatasetReader::Open(::testing::TempDir() + "does_not_exist").ok());
}

TEST(DatasetReader, ExpectedTokenizerIsChecked) {
  absl::Status s =
      DatasetReader::Open(SmallDataset(), {.expected_tokenizer_fingerprint = "bpe:sha256=1"}).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "shard-00000-of-00004")) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "bpe:sha256=1")) << s;
  EXPECT_TRUE(DatasetReader::Open(SmallDataset(), {.expected_tokenizer_fingerprint = testing::kFingerprint}).ok());
}

TEST(DatasetReader, PartialShardsAndOtherFilesAreIgnored) {
  const std::string dir = FreshDir("with_partial");
  ASSERT_TRUE(WriteDataset(dir, {3}).ok());
  fs::create_directory(dir + "/" + ShardTempDirName(0, 1));
  std::ofstream(dir + "/README") << "not a shard";
  std::unique_ptr<DatasetReader> reader = OpenOrDie(dir);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->size(), 3);
}

TEST(DatasetReader, ReadErrorNamesShardAndKeyAndKeepsTheCursor) {
  const std::string dir = FreshDir("read_error");
  ASSERT_TRUE(WriteDataset(dir, {4, 4}).ok());
  {
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir + "/shard-00001-of-00002", &db).ok());
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), ExampleKey(2), "\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff").ok());
    delete db;
  }
  std::unique_ptr<DatasetReader> reader = OpenOrDie(dir);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->Next(0, 1, 1).ok());
  absl::StatusOr<std::vector<DatasetExample>> read = reader->Next(0, 1, 8);  // crosses global index 6
  EXPECT_EQ(read.status().code(), absl::StatusCode::kDataLoss) << read.status();
  EXPECT_TRUE(absl::StrContains(read.status().message(),
                                "dataset example 6: shard " + dir + "/shard-00001-of-00002: example 2"))
      << read.status();
  EXPECT_EQ(reader->cursor().epoch, 0);
  EXPECT_EQ(reader->cursor().position, 1);
  EXPECT_EQ(reader->VerifyContent().code(), absl::StatusCode::kDataLoss);
}

TEST(DatasetReader, ShardReplacedWhileClosedIsDetected) {
  const std::string dir = FreshDir("replaced");
  ASSERT_TRUE(WriteDataset(dir, {2, 2}).ok());
  std::unique_ptr<DatasetReader> reader = OpenOrDie(dir, {.max_open_shards = 1});
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->Get(3).ok());  // shard 0 is closed now
  fs::remove_all(dir + "/shard-00000-of-00002");
  {
    ShardSpec spec = testing::TestSpec(0, 2);
    auto writer = ShardWriter::Create(dir, spec);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Append(MakeExample(40)).ok());
    ASSERT_TRUE((*writer)->Append(MakeExample(41)).ok());
    ASSERT_TRUE((*writer)->Finish().ok());
  }
  absl::Status s = reader->Get(0).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_TRUE(absl::StrContains(s.message(), "changed since the dataset was opened")) << s;
}

}  // namespace
}  // namespace cloze::data
