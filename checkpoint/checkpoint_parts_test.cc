// Distributed checkpoints: parts written by several processes, committed by one.
#include "checkpoint/checkpoint_parts.h"

#include <filesystem>
#include <span>

#include "gtest/gtest.h"
#include "checkpoint/checkpoint_retention.h"
#include "checkpoint/checkpoint_testing.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;

class CheckpointPartsTest : public testing::Test {
 protected:
  // Writes `contents` as parts over tensors [0, split) and [split, end), as two parameter
  // servers would, and returns the manifest the coordinator would commit.
  CheckpointManifest WriteTwoParts(const CheckpointContents& contents, int split) {
    CheckpointManifest manifest = contents.manifest;
    manifest.set_step(contents.step);
    const int end = static_cast<int>(layout_.tensors.size());
    const std::pair<int, int> ranges[] = {{0, split}, {split, end}};
    for (int p = 0; p < 2; ++p) {
      const auto [first, last] = ranges[p];
      const int64_t begin = layout_.tensors[first].offset;
      const int64_t size = layout_.tensors[last - 1].offset + layout_.tensors[last - 1].size - begin;
      const CheckpointPart part{.step = contents.step,
                                .optimizer_step = contents.optimizer_step,
                                .part_name = p == 0 ? "ps-00000-of-00002" : "ps-00001-of-00002",
                                .first_tensor = first,
                                .end_tensor = last,
                                .parameters = std::span<const float>(contents.parameters).subspan(begin, size),
                                .exp_avg = std::span<const float>(contents.exp_avg).subspan(begin, size),
                                .exp_avg_sq = std::span<const float>(contents.exp_avg_sq).subspan(begin, size)};
      absl::StatusOr<std::vector<CheckpointFile>> files = WriteCheckpointPart(run_, part, layout_);
      EXPECT_TRUE(files.ok()) << files.status();
      if (files.ok()) {
        for (const CheckpointFile& f : *files) *manifest.add_files() = f;
      }
    }
    return manifest;
  }

  const ParameterLayout layout_ = SmallAlbertLayout();
  const std::string run_ = FreshTestDir("checkpoint_parts");
};

TEST_F(CheckpointPartsTest, PartsCommittedTogetherLoadAsOne) {
  const CheckpointContents contents = TestContents(layout_, 7, 1);
  const CheckpointManifest manifest = WriteTwoParts(contents, 5);
  // Not visible before the commit.
  EXPECT_TRUE(ListCheckpointSteps(run_)->empty());
  absl::StatusOr<std::string> dir = CommitCheckpoint(run_, manifest);
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::StatusOr<CheckpointContents> loaded = LoadCheckpoint(*dir, layout_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(BitwiseEqual(loaded->parameters, contents.parameters));
  EXPECT_TRUE(BitwiseEqual(loaded->exp_avg, contents.exp_avg));
  EXPECT_TRUE(BitwiseEqual(loaded->exp_avg_sq, contents.exp_avg_sq));
  EXPECT_EQ(loaded->optimizer_step, contents.optimizer_step);
  EXPECT_EQ(loaded->manifest.files_size(), 4);
  EXPECT_TRUE(absl::IsAlreadyExists(CommitCheckpoint(run_, manifest).status()));
}

TEST_F(CheckpointPartsTest, APartMissingOrAlteredIsNeverCommitted) {
  const CheckpointContents contents = TestContents(layout_, 3, 2);
  CheckpointManifest manifest = WriteTwoParts(contents, 4);
  CheckpointManifest altered = manifest;
  altered.mutable_files(1)->set_sha256(std::string(64, '0'));
  EXPECT_TRUE(absl::IsDataLoss(CommitCheckpoint(run_, altered).status()));
  CheckpointManifest renamed = manifest;
  renamed.mutable_files(3)->set_name("model-ps-00009-of-00002.safetensors");
  EXPECT_TRUE(absl::IsDataLoss(CommitCheckpoint(run_, renamed).status()));
  EXPECT_TRUE(ListCheckpointSteps(run_)->empty());
  // A manifest that lists only one part's files commits, but loading names the tensors the
  // other part held: a coordinator must wait for every part.
  CheckpointManifest half = manifest;
  half.mutable_files()->DeleteSubrange(2, 2);
  absl::StatusOr<std::string> dir = CommitCheckpoint(run_, half);
  ASSERT_TRUE(dir.ok()) << dir.status();
  absl::Status loaded = LoadCheckpoint(*dir, layout_).status();
  EXPECT_TRUE(absl::IsFailedPrecondition(loaded)) << loaded;
  EXPECT_NE(loaded.message().find("is missing"), std::string::npos) << loaded;
}

TEST_F(CheckpointPartsTest, PruningLeavesPartsOfLaterStepsAlone) {
  const CheckpointContents first = TestContents(layout_, 2, 3);
  ASSERT_TRUE(WriteCheckpoint(run_, first, layout_).ok());
  WriteTwoParts(TestContents(layout_, 4, 4), 5);  // being written by other processes
  ASSERT_TRUE(PruneCheckpoints(run_, 1, 0).ok());
  EXPECT_TRUE(fs::exists(run_ + "/checkpoints/" + PartialCheckpointDirName(4)));
}

TEST_F(CheckpointPartsTest, BadPartsAreRefused) {
  const CheckpointContents contents = TestContents(layout_, 1, 5);
  CheckpointPart part{.step = 1, .part_name = "Bad/Name", .first_tensor = 0, .end_tensor = 1};
  EXPECT_TRUE(absl::IsInvalidArgument(WriteCheckpointPart(run_, part, layout_).status()));
  part.part_name = "p";
  part.end_tensor = 0;
  EXPECT_TRUE(absl::IsInvalidArgument(WriteCheckpointPart(run_, part, layout_).status()));
  part.end_tensor = 1;  // spans of the wrong size
  part.parameters = contents.parameters;
  EXPECT_TRUE(absl::IsInvalidArgument(WriteCheckpointPart(run_, part, layout_).status()));
}

TEST(SubLayoutTest, OffsetsStartAtZero) {
  const ParameterLayout layout = SmallAlbertLayout();
  const ParameterLayout sub = SubLayout(layout, 2, 5);
  ASSERT_EQ(sub.tensors.size(), 3u);
  EXPECT_EQ(sub.tensors[0].offset, 0);
  EXPECT_EQ(sub.tensors[0].name, layout.tensors[2].name);
  EXPECT_EQ(sub.total_size, layout.tensors[5].offset - layout.tensors[2].offset);
}

}  // namespace
}  // namespace cloze
