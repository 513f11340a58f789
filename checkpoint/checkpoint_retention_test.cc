// The retention rule on steps, and PruneCheckpoints on real directories: exactly the right
// checkpoints stay, the newest valid one always, and leftovers of crashes go.
#include "checkpoint/checkpoint_retention.h"

#include <filesystem>

#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "checkpoint/checkpoint_testing.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;
using Op = FaultInjectingFileSystem::Op;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Steps = std::vector<int64_t>;

TEST(CheckpointsToDelete, KeepsTheNewestKAndTheMultiplesOfM) {
  const Steps steps = {100, 200, 300, 400, 500, 600, 700, 800, 900, 1000};
  EXPECT_EQ(CheckpointsToDelete(steps, 1000, 2, 500), (Steps{100, 200, 300, 400, 600, 700, 800}));
  EXPECT_EQ(CheckpointsToDelete(steps, 1000, 3, 0), (Steps{100, 200, 300, 400, 500, 600, 700}));
  EXPECT_EQ(CheckpointsToDelete(steps, 1000, 0, 300), (Steps{100, 200, 400, 500, 700, 800}));
  EXPECT_EQ(CheckpointsToDelete(steps, 1000, 20, 0), Steps{});
  EXPECT_EQ(CheckpointsToDelete({}, std::nullopt, 2, 0), Steps{});
  // Unsorted input, step 0 is a multiple of everything.
  EXPECT_EQ(CheckpointsToDelete({30, 0, 10, 20}, 30, 1, 7), (Steps{10, 20}));
}

TEST(CheckpointsToDelete, AlwaysKeepsTheNewestValid) {
  const Steps steps = {1, 2, 3, 4, 5};
  // 5 and 4 damaged: 3 is the newest valid and stays although it is not among the newest 1.
  EXPECT_EQ(CheckpointsToDelete(steps, 3, 1, 0), (Steps{1, 2, 4}));
  EXPECT_EQ(CheckpointsToDelete(steps, 3, 0, 0), (Steps{1, 2, 4, 5}));
  // No valid checkpoint: nothing is deleted.
  EXPECT_EQ(CheckpointsToDelete(steps, std::nullopt, 0, 0), Steps{});
}

class PruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = FreshTestDir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    options_.warn = [this](const std::string& line) { warnings_.push_back(line); };
  }

  void Write(std::initializer_list<int64_t> steps) {
    for (int64_t step : steps) {
      ASSERT_TRUE(WriteCheckpoint(run_, TestContents(layout_, step, 1), layout_).ok());
    }
  }

  std::string Dir(int64_t step) const { return run_ + "/checkpoints/" + CheckpointDirName(step); }

  std::vector<std::string> Entries() const {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(run_ + "/checkpoints")) names.push_back(entry.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  const ParameterLayout layout_ = SmallAlbertLayout();
  std::string run_;
  CheckpointOptions options_;
  std::vector<std::string> warnings_;
};

TEST_F(PruneTest, KeepsExactlyTheRightSet) {
  Write({1, 2, 3, 4, 5, 6, 7});
  ASSERT_TRUE(PruneCheckpoints(run_, 2, 3, options_).ok());
  EXPECT_EQ(*ListCheckpointSteps(run_), (Steps{3, 6, 7}));
  EXPECT_EQ(Entries().size(), 3u);  // nothing else left behind
  EXPECT_TRUE(warnings_.empty());
  // Pruning again changes nothing; after a new checkpoint the rule moves on.
  ASSERT_TRUE(PruneCheckpoints(run_, 2, 3, options_).ok());
  EXPECT_EQ(*ListCheckpointSteps(run_), (Steps{3, 6, 7}));
  Write({8});
  ASSERT_TRUE(PruneCheckpoints(run_, 2, 3, options_).ok());
  EXPECT_EQ(*ListCheckpointSteps(run_), (Steps{3, 6, 7, 8}));
  Write({9});
  ASSERT_TRUE(PruneCheckpoints(run_, 2, 3, options_).ok());
  EXPECT_EQ(*ListCheckpointSteps(run_), (Steps{3, 6, 8, 9}));
}

TEST_F(PruneTest, NeverDeletesTheNewestValid) {
  Write({1, 2, 3, 4});
  fs::remove(Dir(4) + "/model.safetensors");
  fs::resize_file(Dir(3) + "/optimizer.safetensors", 10);
  ASSERT_TRUE(PruneCheckpoints(run_, 1, 0, options_).ok());
  EXPECT_EQ(*ListCheckpointSteps(run_), (Steps{2, 4}));
  ASSERT_EQ(warnings_.size(), 2u) << absl::StrJoin(warnings_, "\n");
  EXPECT_THAT(warnings_[0], HasSubstr(Dir(4)));
  EXPECT_THAT(warnings_[1], HasSubstr(Dir(3)));
  warnings_.clear();
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->contents.step, 2);
}

TEST_F(PruneTest, DeletesNothingWhenNoneIsValid) {
  Write({1, 2});
  fs::remove(Dir(1) + "/manifest.pb.txt");
  fs::remove(Dir(2) + "/manifest.pb.txt");
  ASSERT_TRUE(PruneCheckpoints(run_, 0, 0, options_).ok());
  EXPECT_EQ(*ListCheckpointSteps(run_), (Steps{1, 2}));
  EXPECT_EQ(warnings_.size(), 2u);
}

TEST_F(PruneTest, DeletesLeftoversOfCrashesButNotOtherFiles) {
  Write({1});
  fs::create_directories(run_ + "/checkpoints/.step-000000000.partial/x");
  fs::create_directories(run_ + "/checkpoints/.step-000000000.deleting");
  fs::create_directories(run_ + "/checkpoints/notes");
  // After the newest checkpoint: another process of the job may be writing it.
  fs::create_directories(run_ + "/checkpoints/.step-000000002.partial/x");
  ASSERT_TRUE(PruneCheckpoints(run_, 5, 0, options_).ok());
  EXPECT_THAT(Entries(), ElementsAre(".step-000000002.partial", "notes", "step-000000001"));
}

TEST_F(PruneTest, MissingCheckpointsDirectoryIsFine) {
  EXPECT_TRUE(PruneCheckpoints(run_, 1, 0).ok());
  EXPECT_TRUE(absl::IsInvalidArgument(PruneCheckpoints(run_, -1, 0)));
  EXPECT_TRUE(absl::IsInvalidArgument(PruneCheckpoints(run_, 1, -5)));
}

// A crash in the middle of deleting a checkpoint leaves a ".deleting" directory, never a
// half-deleted directory under a checkpoint's name; loading ignores it, pruning removes it.
TEST_F(PruneTest, InterruptedDeletionLeavesNoHalfCheckpoint) {
  Write({1, 2, 3});
  FaultInjectingFileSystem crashing(PosixCheckpointFileSystem());
  crashing.FailNth(Op::kRemoveAll, 0);
  CheckpointOptions faulty = options_;
  faulty.file_system = &crashing;
  EXPECT_FALSE(PruneCheckpoints(run_, 1, 0, faulty).ok());
  EXPECT_THAT(Entries(), ElementsAre(".step-000000001.deleting", "step-000000002", "step-000000003"));
  absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, options_);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->contents.step, 3);
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_THAT(warnings_[0], HasSubstr(".step-000000001.deleting"));
  ASSERT_TRUE(PruneCheckpoints(run_, 1, 0, options_).ok());
  EXPECT_THAT(Entries(), ElementsAre("step-000000003"));
}

// Verification errors that are not damage (here, an unreadable file) stop pruning before it
// deletes anything.
TEST_F(PruneTest, ReadErrorsStopPruning) {
  Write({1, 2});
  FaultInjectingFileSystem faulty(PosixCheckpointFileSystem());
  faulty.FailNth(Op::kReadFile, 0);
  CheckpointOptions options = options_;
  options.file_system = &faulty;
  EXPECT_FALSE(PruneCheckpoints(run_, 1, 0, options).ok());
  EXPECT_EQ(*ListCheckpointSteps(run_), (Steps{1, 2}));
}

}  // namespace
}  // namespace cloze
