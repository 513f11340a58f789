// WriteCheckpoint under injected faults: a full disk, failed fsyncs and renames, and a
// crash at every file-system call followed by a power loss. Whatever happens, earlier
// checkpoints stay valid, and a new one is either absent or complete.
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_retention.h"
#include "checkpoint/checkpoint_testing.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;
using Op = FaultInjectingFileSystem::Op;
using ::testing::HasSubstr;

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

class CheckpointFaultTest : public ::testing::Test {
 protected:
  // A fresh run directory holding a checkpoint of step 100.
  void FreshRun(const std::string& name) {
    run_ = FreshTestDir(absl::StrCat(::testing::UnitTest::GetInstance()->current_test_info()->name(), "_", name));
    ASSERT_TRUE(WriteCheckpoint(run_, earlier_, layout_).ok());
  }

  // The newest valid checkpoint is step 100 or 200, and holds what was written; returns its step.
  int64_t ExpectValidState() {
    absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(run_, layout_, quiet_);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    if (!loaded.ok()) return -1;
    const CheckpointContents& want = loaded->contents.step == 200 ? newer_ : earlier_;
    EXPECT_EQ(loaded->contents.step, want.step);
    EXPECT_TRUE(BitwiseEqual(loaded->contents.parameters, want.parameters));
    EXPECT_TRUE(BitwiseEqual(loaded->contents.exp_avg_sq, want.exp_avg_sq));
    EXPECT_TRUE(VerifyCheckpoint(run_ + "/checkpoints/step-000000100").ok());
    return loaded->contents.step;
  }

  // The calls one successful write of step 200 makes, by op.
  std::map<Op, int> CallsOfOneWrite() {
    FreshRun("count");
    FaultInjectingFileSystem counting(PosixCheckpointFileSystem());
    EXPECT_TRUE(WriteCheckpoint(run_, newer_, layout_, {&counting, {}}).ok());
    std::map<Op, int> calls;
    for (Op op : {Op::kCreateDir, Op::kWriteFile, Op::kSyncFile, Op::kSyncDir, Op::kRenameDir, Op::kRemoveAll}) {
      calls[op] = counting.calls(op);
    }
    return calls;
  }

  const ParameterLayout layout_ = SmallAlbertLayout();
  const CheckpointContents earlier_ = TestContents(layout_, 100, 1);
  const CheckpointContents newer_ = TestContents(layout_, 200, 2);
  const CheckpointOptions quiet_{nullptr, [](const std::string&) {}};
  std::string run_;
};

TEST_F(CheckpointFaultTest, OneWriteMakesTheExpectedCalls) {
  const std::map<Op, int> calls = CallsOfOneWrite();
  EXPECT_EQ(calls.at(Op::kWriteFile), 3);   // model, optimizer, manifest
  EXPECT_EQ(calls.at(Op::kSyncFile), 3);    // each of them
  EXPECT_EQ(calls.at(Op::kSyncDir), 3);     // run dir, partial dir, checkpoints dir
  EXPECT_EQ(calls.at(Op::kRenameDir), 1);
}

// Each failing call of each kind: the write fails with an error naming a path, nothing
// partial is left, the checkpoint of step 100 is intact, and writing step 200 again works.
TEST_F(CheckpointFaultTest, AFailureAtAnyCallPublishesNothing) {
  const std::map<Op, int> calls = CallsOfOneWrite();
  for (const auto& [op, count] : calls) {
    for (int n = 0; n < count; ++n) {
      SCOPED_TRACE(absl::StrCat("op ", static_cast<int>(op), " call ", n));
      FreshRun(absl::StrCat(static_cast<int>(op), "_", n));
      FaultInjectingFileSystem faulty(PosixCheckpointFileSystem());
      faulty.FailNth(op, n);
      absl::StatusOr<std::string> written = WriteCheckpoint(run_, newer_, layout_, {&faulty, {}});
      ASSERT_FALSE(written.ok());
      EXPECT_THAT(written.status().message(), HasSubstr(run_));
      if (op == Op::kWriteFile) {
        EXPECT_TRUE(absl::IsResourceExhausted(written.status())) << written.status();
      }
      // Only the last call, the sync of checkpoints/ after the rename, fails after publishing;
      // the checkpoint is complete then.
      const bool after_rename = op == Op::kSyncDir && n == count - 1;
      EXPECT_EQ(ExpectValidState(), after_rename ? 200 : 100);
      if (op != Op::kRemoveAll) {
        EXPECT_EQ(Entries(run_ + "/checkpoints").size(), after_rename ? 2u : 1u)
            << absl::StrJoin(Entries(run_ + "/checkpoints"), " ");
      }
      if (!after_rename) {
        ASSERT_TRUE(WriteCheckpoint(run_, newer_, layout_).ok());
        EXPECT_EQ(ExpectValidState(), 200);
      }
    }
  }
}

// The process dies at each mutating call in turn and the machine loses power: the earlier
// checkpoint is intact and loaded, whatever the new one's leftovers; they are ignored, left
// by pruning (a partial directory newer than every checkpoint may be another process's write
// in progress, checkpoint_parts.h), and the step can be written again.
TEST_F(CheckpointFaultTest, ACrashAndPowerLossAtAnyCallLosesNothingWritten) {
  FreshRun("count");
  FaultInjectingFileSystem counting(PosixCheckpointFileSystem());
  ASSERT_TRUE(WriteCheckpoint(run_, newer_, layout_, {&counting, {}}).ok());
  const int mutations = counting.mutations();
  for (int n = 0; n < mutations; ++n) {
    SCOPED_TRACE(absl::StrCat("crash at mutation ", n));
    FreshRun(absl::StrCat("crash_", n));
    FaultInjectingFileSystem crashing(PosixCheckpointFileSystem());
    crashing.CrashAtMutation(n);
    absl::StatusOr<std::string> written = WriteCheckpoint(run_, newer_, layout_, {&crashing, {}});
    EXPECT_TRUE(absl::IsAborted(written.status())) << written.status();
    crashing.SimulatePowerLoss();
    // The rename is durable only after the last call, which never succeeded.
    EXPECT_EQ(ExpectValidState(), 100);
    ASSERT_TRUE(PruneCheckpoints(run_, 10, 0, quiet_).ok());
    std::vector<std::string> left = Entries(run_ + "/checkpoints");
    std::erase(left, ".step-000000200.partial");
    EXPECT_EQ(left, std::vector<std::string>{"step-000000100"});
    ASSERT_TRUE(WriteCheckpoint(run_, newer_, layout_).ok());
    EXPECT_EQ(ExpectValidState(), 200);
    ASSERT_TRUE(PruneCheckpoints(run_, 10, 0, quiet_).ok());
    EXPECT_EQ(Entries(run_ + "/checkpoints"), (std::vector<std::string>{"step-000000100", "step-000000200"}));
  }
}

// Once WriteCheckpoint has returned, its checkpoint survives a power loss.
TEST_F(CheckpointFaultTest, ACompletedWriteSurvivesPowerLoss) {
  FreshRun("durable");
  FaultInjectingFileSystem faulty(PosixCheckpointFileSystem());
  ASSERT_TRUE(WriteCheckpoint(run_, newer_, layout_, {&faulty, {}}).ok());
  faulty.SimulatePowerLoss();
  EXPECT_EQ(ExpectValidState(), 200);
}

// The double itself: without the syncs, a power loss does damage (so the tests above can fail).
TEST(FaultInjectingFileSystem, PowerLossDropsWhatWasNotSynced) {
  const std::string dir = FreshTestDir("power_loss");
  FaultInjectingFileSystem faulty(PosixCheckpointFileSystem());
  ASSERT_TRUE(faulty.CreateDir(dir + "/a").ok());
  ASSERT_TRUE(faulty.WriteFile(dir + "/a/synced", "0123456789").ok());
  ASSERT_TRUE(faulty.SyncFile(dir + "/a/synced").ok());
  ASSERT_TRUE(faulty.WriteFile(dir + "/a/unsynced", "0123456789").ok());
  ASSERT_TRUE(faulty.RenameDir(dir + "/a", dir + "/b").ok());
  ASSERT_TRUE(faulty.CreateDir(dir + "/c").ok());
  ASSERT_TRUE(faulty.RenameDir(dir + "/c", dir + "/d").ok());
  ASSERT_TRUE(faulty.SyncDir(dir + "/b").ok());  // not the parent: the renames stay unsynced
  faulty.SimulatePowerLoss();
  EXPECT_EQ(Entries(dir), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(*PosixCheckpointFileSystem()->ReadFile(dir + "/a/synced"), "0123456789");
  EXPECT_EQ(*PosixCheckpointFileSystem()->ReadFile(dir + "/a/unsynced"), "01234");

  ASSERT_TRUE(faulty.RenameDir(dir + "/a", dir + "/b").ok());
  ASSERT_TRUE(faulty.SyncDir(dir).ok());
  faulty.SimulatePowerLoss();
  EXPECT_EQ(Entries(dir), (std::vector<std::string>{"b", "c"}));
}

TEST(FaultInjectingFileSystem, FullDiskWritesHalfAndCrashStopsEverything) {
  const std::string dir = FreshTestDir("full_disk");
  FaultInjectingFileSystem faulty(PosixCheckpointFileSystem());
  faulty.FailNth(Op::kWriteFile, 1);
  ASSERT_TRUE(faulty.WriteFile(dir + "/first", "0123").ok());
  EXPECT_TRUE(absl::IsResourceExhausted(faulty.WriteFile(dir + "/second", "0123")));
  EXPECT_EQ(*PosixCheckpointFileSystem()->ReadFile(dir + "/second"), "01");
  EXPECT_TRUE(faulty.WriteFile(dir + "/third", "0123").ok());  // the fault fires once

  faulty.CrashAtMutation(1);
  EXPECT_TRUE(faulty.SyncFile(dir + "/first").ok());
  EXPECT_TRUE(absl::IsAborted(faulty.WriteFile(dir + "/fourth", "0123")));
  EXPECT_EQ(*PosixCheckpointFileSystem()->ReadFile(dir + "/fourth"), "01");
  EXPECT_TRUE(absl::IsAborted(faulty.WriteFile(dir + "/fifth", "0123")));
  EXPECT_FALSE(fs::exists(dir + "/fifth"));
  EXPECT_TRUE(absl::IsAborted(faulty.ReadFile(dir + "/first").status()));
}

// The POSIX file system refuses to rename over anything, an empty directory included.
TEST(PosixCheckpointFileSystem, RenameNeverReplaces) {
  const std::string dir = FreshTestDir("rename");
  CheckpointFileSystem* posix = PosixCheckpointFileSystem();
  ASSERT_TRUE(posix->CreateDir(dir + "/from").ok());
  ASSERT_TRUE(posix->CreateDir(dir + "/to").ok());
  absl::Status renamed = posix->RenameDir(dir + "/from", dir + "/to");
  EXPECT_TRUE(absl::IsAlreadyExists(renamed)) << renamed;
  EXPECT_TRUE(posix->CreateDir(dir + "/from").ok());  // exists already: fine
  EXPECT_TRUE(absl::IsNotFound(posix->CreateDir(dir + "/no/such")));
  EXPECT_TRUE(absl::IsNotFound(posix->ReadFile(dir + "/absent").status()));
  EXPECT_TRUE(absl::IsNotFound(posix->ListDir(dir + "/absent").status()));
  EXPECT_TRUE(posix->RemoveAll(dir + "/absent").ok());
  EXPECT_EQ(*posix->ListDir(dir), (std::vector<std::string>{"from", "to"}));
}

}  // namespace
}  // namespace cloze
