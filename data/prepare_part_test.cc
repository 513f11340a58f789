// Split preparation (prepare_part.h) on real text from shared/data with BERT's vocabulary:
// the merged dataset equals a one-machine prepare record for record whatever the number of
// parts and their order, and a merge refuses missing, unfinished, damaged and foreign parts
// by name.
#include "data/prepare_part.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "data/data_config.h"
#include "data/dataset_reader.h"
#include "data/prepare.h"
#include "data/shard_format.h"
#include "data/shard_reader.h"
#include "data/shard_testing.h"
#include "data/testing/shared_data.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

std::string Shared(const std::string& relative) {
  absl::StatusOr<std::string> path = testing::SharedDataPath(relative);
  EXPECT_TRUE(path.ok()) << path.status();
  return path.value_or("");
}

// Three real files, each its own unit (unit_bytes 1); the one-machine run spans units too.
PrepareOptions Options(const std::vector<std::string>& inputs, const std::string& output) {
  PrepareOptions options;
  options.inputs = inputs;
  options.output = output;
  options.config = DefaultDataConfig();
  options.config.set_tokenizer("wordpiece:" + Shared("vocab/bert-base-uncased-vocab.txt"));
  options.config.set_max_seq_length(128);
  options.config.set_shards(3);
  options.threads = 2;
  options.unit_bytes = 1;
  return options;
}

std::vector<std::string> RealInputs() {
  return {Shared("wikitext-2/valid.txt"), Shared("wikitext-2/test.txt"), Shared("wikitext-2-raw/wiki.test.raw")};
}

// Smaller input for the fault cases: the first lines of a real file cut into four files.
std::vector<std::string> SmallInputs() {
  static const std::vector<std::string> files = [] {
    const std::string dir = testing::FreshDir("prepare_part_small_input");
    std::ifstream in(Shared("wikitext-2/valid.txt"));
    std::vector<std::string> paths;
    std::string line;
    for (int f = 0; f < 4; ++f) {
      paths.push_back(absl::StrCat(dir, "/piece-", f, ".txt"));
      std::ofstream out(paths.back());
      for (int i = 0; i < 300 && std::getline(in, line); ++i) out << line << "\n";
    }
    return paths;
  }();
  return files;
}

// Everything a dataset is identified by, file by file: a regular file's bytes; for a shard,
// its metadata record and every example record (RocksDB's own files carry a random database
// identity, so their bytes differ between any two runs, even of the same command).
std::map<std::string, std::string> DatasetContent(const std::string& dir) {
  std::map<std::string, std::string> content;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file()) {
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream bytes;
      bytes << in.rdbuf();
      content[name] = bytes.str();
      continue;
    }
    absl::StatusOr<std::unique_ptr<ShardReader>> shard = ShardReader::Open(entry.path().string());
    if (!shard.ok()) {
      content[name] = absl::StrCat("not a shard: ", shard.status().message());
      continue;
    }
    std::string records = (*shard)->metadata().SerializeAsString();
    absl::Status s = (*shard)->ScanContent([&](int64_t index, absl::string_view value) {
      absl::StrAppend(&records, "|", index, ":", value);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s;
    content[name] = records;
  }
  return content;
}

void ExpectSameDataset(const std::string& expected_dir, const std::string& actual_dir) {
  const std::map<std::string, std::string> expected = DatasetContent(expected_dir);
  const std::map<std::string, std::string> actual = DatasetContent(actual_dir);
  std::vector<std::string> expected_names, actual_names;
  for (const auto& [name, bytes] : expected) expected_names.push_back(name);
  for (const auto& [name, bytes] : actual) actual_names.push_back(name);
  ASSERT_EQ(expected_names, actual_names);
  for (const auto& [name, bytes] : expected) EXPECT_TRUE(actual.at(name) == bytes) << name << " differs";
}

void RunPart(PrepareOptions options, int part, int parts) {
  absl::StatusOr<PartResult> result = PreparePart(options, part, parts);
  ASSERT_TRUE(result.ok()) << result.status();
}

class SplitPrepare : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    one_machine_ = new std::string(testing::FreshDir("prepare_one_machine"));
    absl::StatusOr<PrepareResult> result = PrepareDataset(Options(RealInputs(), *one_machine_));
    ASSERT_TRUE(result.ok()) << result.status();
    ASSERT_GT(result->examples.examples, 3000);
  }
  static void TearDownTestSuite() { delete one_machine_; }
  static std::string* one_machine_;
};
std::string* SplitPrepare::one_machine_ = nullptr;

TEST_F(SplitPrepare, TwoPartsMergeIntoTheOneMachineDataset) {
  const std::string dir = testing::FreshDir("prepare_two_parts");
  for (int part = 0; part < 2; ++part) RunPart(Options(RealInputs(), dir), part, 2);
  absl::StatusOr<MergeResult> merged = MergeParts(dir, 2);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_FALSE(fs::exists(dir + "/parts"));
  ExpectSameDataset(*one_machine_, dir);
}

// Three parts, run out of order, one of them twice (a requeue): still the same dataset.
TEST_F(SplitPrepare, ThreePartsInAnyOrderAndRunTwiceMergeIntoTheOneMachineDataset) {
  const std::string dir = testing::FreshDir("prepare_three_parts");
  for (int part : {2, 0, 1, 0}) RunPart(Options(RealInputs(), dir), part, 3);
  absl::StatusOr<MergeResult> merged = MergeParts(dir, 3);
  ASSERT_TRUE(merged.ok()) << merged.status();
  ExpectSameDataset(*one_machine_, dir);
}

// The merged dataset reads as any other: shards differ by at most one example and W readers
// of a step get equal, disjoint shares.
TEST_F(SplitPrepare, MergedDatasetIsBalancedAcrossShardsAndWorkers) {
  int64_t smallest = INT64_MAX, largest = 0, total = 0;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<std::unique_ptr<ShardReader>> shard = ShardReader::Open(*one_machine_ + "/" + ShardDirName(i, 3));
    ASSERT_TRUE(shard.ok()) << shard.status();
    smallest = std::min(smallest, (*shard)->size());
    largest = std::max(largest, (*shard)->size());
    total += (*shard)->size();
  }
  EXPECT_LE(largest - smallest, 1);
  constexpr int kWorkers = 3, kCount = 64;
  std::vector<int64_t> per_worker(kWorkers, 0);
  std::set<int64_t> seen;
  for (int w = 0; w < kWorkers; ++w) {
    absl::StatusOr<std::unique_ptr<DatasetReader>> reader = DatasetReader::Open(*one_machine_);
    ASSERT_TRUE(reader.ok()) << reader.status();
    for (int64_t step = 0; step < total / (kWorkers * kCount); ++step) {
      absl::StatusOr<std::vector<DatasetExample>> got = (*reader)->Next(w, kWorkers, kCount);
      ASSERT_TRUE(got.ok()) << got.status();
      per_worker[w] += static_cast<int64_t>(got->size());
      for (const DatasetExample& e : *got) EXPECT_TRUE(seen.insert(e.index).second) << "read twice: " << e.index;
    }
  }
  EXPECT_EQ(per_worker, std::vector<int64_t>(kWorkers, per_worker[0]));
  EXPECT_GT(per_worker[0] * kWorkers, total - kWorkers * kCount);
}

TEST(PrepareFaults, MissingPartIsNamed) {
  const std::string dir = testing::FreshDir("prepare_missing_part");
  RunPart(Options(SmallInputs(), dir), 0, 3);
  RunPart(Options(SmallInputs(), dir), 2, 3);
  absl::StatusOr<MergeResult> merged = MergeParts(dir, 3);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 1 of 3 is missing"));
  EXPECT_THAT(merged.status().message(), HasSubstr("--part=1 --parts=3"));
  EXPECT_FALSE(fs::exists(dir + "/" + ShardDirName(0, 3)));
  // Once the part is there, the same folder merges.
  RunPart(Options(SmallInputs(), dir), 1, 3);
  EXPECT_TRUE(MergeParts(dir, 3).ok());
}

TEST(PrepareFaults, UnfinishedAndDamagedPartsAreNamed) {
  const std::string dir = testing::FreshDir("prepare_unfinished_part");
  RunPart(Options(SmallInputs(), dir), 0, 2);
  // Part 1 died while writing: only its private partial folder exists.
  fs::create_directories(dir + "/parts/.part-00001-of-00002.partial-node7-4242/.shard-00000-of-00001.partial");
  absl::StatusOr<MergeResult> merged = MergeParts(dir, 2);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 1 of 2 is unfinished"));

  // A part folder without its manifest (a half-copied folder) is not taken either.
  RunPart(Options(SmallInputs(), dir), 1, 2);
  fs::remove(dir + "/parts/part-00001-of-00002/part.textproto");
  merged = MergeParts(dir, 2);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 1 of 2 is unfinished or damaged"));

  // A manifest that does not match the part's examples.
  RunPart(Options(SmallInputs(), dir), 1, 2);
  {
    std::ofstream manifest(dir + "/parts/part-00000-of-00002/part.textproto", std::ios::app);
    manifest << "example_count: 1\n";
  }
  merged = MergeParts(dir, 2);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 0 of 2 is damaged"));
}

TEST(PrepareFaults, ForeignPartsAreNamed) {
  const std::string dir = testing::FreshDir("prepare_foreign_part");
  RunPart(Options(SmallInputs(), dir), 0, 3);
  RunPart(Options(SmallInputs(), dir), 2, 3);
  PrepareOptions other_seed = Options(SmallInputs(), dir);
  other_seed.config.set_seed(7);
  RunPart(other_seed, 1, 3);
  absl::StatusOr<MergeResult> merged = MergeParts(dir, 3);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 1 of 3"));
  EXPECT_THAT(merged.status().message(), HasSubstr("is foreign: made from another DataConfig"));

  std::vector<std::string> other_files = SmallInputs();
  other_files.pop_back();
  RunPart(Options(other_files, dir), 1, 3);
  merged = MergeParts(dir, 3);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 1 of 3"));
  EXPECT_THAT(merged.status().message(), HasSubstr("is foreign: made from another input"));

  PrepareOptions other_tokenizer = Options(SmallInputs(), dir);
  other_tokenizer.config.set_tokenizer("spm:" + Shared("vocab/albert-base-v2-spiece.model"));
  RunPart(other_tokenizer, 1, 3);
  merged = MergeParts(dir, 3);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("is foreign: made from another tokenizer"));

  // Parts of a split into two are not parts of a split into three.
  fs::rename(dir + "/parts/part-00000-of-00003", dir + "/parts/part-00000-of-00002");
  RunPart(Options(SmallInputs(), dir), 1, 2);
  fs::remove_all(dir + "/parts/part-00001-of-00003");
  fs::rename(dir + "/parts/part-00001-of-00002", dir + "/parts/part-00001-of-00003");
  merged = MergeParts(dir, 3);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 0 of 3 is missing"));
  fs::rename(dir + "/parts/part-00000-of-00002", dir + "/parts/part-00000-of-00003");
  merged = MergeParts(dir, 3);
  ASSERT_FALSE(merged.ok());
  EXPECT_THAT(merged.status().message(), HasSubstr("part 1 of 3 is foreign"));
}

TEST(PrepareFaults, PartsRefuseSpmTrainAndForeignOutput) {
  const std::string dir = testing::FreshDir("prepare_part_refusals");
  PrepareOptions train = Options(SmallInputs(), dir);
  train.config.set_tokenizer("spm-train:100");
  absl::StatusOr<PartResult> part = PreparePart(train, 0, 2);
  ASSERT_FALSE(part.ok());
  EXPECT_THAT(part.status().message(), HasSubstr("spm-train:100"));
  EXPECT_THAT(part.status().message(), HasSubstr("train it once"));
  part = PreparePart(Options(SmallInputs(), dir), 2, 2);
  ASSERT_FALSE(part.ok());
  EXPECT_THAT(part.status().message(), HasSubstr("--part: 2 is outside [0, 1]"));
  std::ofstream(dir + "/notes.txt") << "mine\n";
  part = PreparePart(Options(SmallInputs(), dir), 0, 2);
  ASSERT_FALSE(part.ok());
  EXPECT_THAT(part.status().message(), HasSubstr("holds notes.txt"));
}

// More parts than units: the extra parts are empty and the merge still equals one machine.
TEST(PrepareFaults, MorePartsThanUnits) {
  const std::string one = testing::FreshDir("prepare_small_one_machine");
  ASSERT_TRUE(PrepareDataset(Options(SmallInputs(), one)).ok());
  const std::string dir = testing::FreshDir("prepare_six_parts");
  for (int part = 0; part < 6; ++part) RunPart(Options(SmallInputs(), dir), part, 6);
  absl::StatusOr<MergeResult> merged = MergeParts(dir, 6);
  ASSERT_TRUE(merged.ok()) << merged.status();
  ExpectSameDataset(one, dir);
  absl::StatusOr<MergeResult> again = MergeParts(dir, 6);
  ASSERT_FALSE(again.ok());
}

}  // namespace
}  // namespace cloze::data
