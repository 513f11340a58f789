#include "data/dataset_writer.h"

#include <filesystem>

#include "data/dataset_reader.h"
#include "data/shard_testing.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

using testing::FreshDir;
using testing::MakeExample;
using testing::TestSpec;

TEST(DatasetWriter, RoundRobinShardsReadBackAsOneDataset) {
  const std::string dir = FreshDir("dataset_writer_round_robin");
  ShardSpec spec = TestSpec(0, 4);
  absl::StatusOr<std::unique_ptr<DatasetWriter>> writer = DatasetWriter::Create(dir, spec);
  ASSERT_TRUE(writer.ok()) << writer.status();
  for (int64_t k = 0; k < 103; ++k) ASSERT_TRUE((*writer)->Add(MakeExample(k)).ok());
  absl::StatusOr<std::vector<ShardMetadata>> shards = (*writer)->Finish();
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_EQ(shards->size(), 4u);
  EXPECT_EQ((*shards)[0].example_count(), 26);
  EXPECT_EQ((*shards)[3].example_count(), 25);

  absl::StatusOr<std::unique_ptr<DatasetReader>> reader = DatasetReader::Open(dir);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->size(), 103);
  // Example k sits in shard k mod 4 at index k / 4; shards are numbered shard-major.
  for (int64_t k : {0, 1, 5, 102}) {
    const int64_t global = (k % 4) * 26 - std::max<int64_t>(0, k % 4 - 3) + k / 4;
    absl::StatusOr<Example> example = (*reader)->Get(global);
    ASSERT_TRUE(example.ok()) << example.status();
    EXPECT_EQ(example->SerializeAsString(), MakeExample(k).SerializeAsString()) << k;
  }
}

TEST(DatasetWriter, NothingAppearsUnlessFinished) {
  const std::string dir = FreshDir("dataset_writer_unfinished");
  {
    absl::StatusOr<std::unique_ptr<DatasetWriter>> writer = DatasetWriter::Create(dir, TestSpec(0, 3));
    ASSERT_TRUE(writer.ok());
    for (int64_t k = 0; k < 10; ++k) ASSERT_TRUE((*writer)->Add(MakeExample(k)).ok());
  }
  EXPECT_TRUE(std::filesystem::is_empty(dir));
  EXPECT_FALSE(DatasetReader::Open(dir).ok());
}

}  // namespace
}  // namespace cloze::data
