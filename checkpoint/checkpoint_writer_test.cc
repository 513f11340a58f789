// AsyncCheckpointWriter: the caller goes on while a checkpoint is written from its snapshot,
// writes are serialized and pruned, and errors are sticky.
#include "checkpoint/checkpoint_writer.h"

#include <filesystem>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "checkpoint/checkpoint_testing.h"

namespace cloze {
namespace {

using Op = FaultInjectingFileSystem::Op;
using ::testing::HasSubstr;

CheckpointConfig Retention(int keep_last, int64_t keep_every) {
  CheckpointConfig config;
  config.set_keep_last(keep_last);
  config.set_keep_every(keep_every);
  return config;
}

// The write is held at its first file until the test lets it go: Schedule must have returned
// by then, with the write in flight, and the caller's buffers free to change.
TEST(AsyncCheckpointWriter, CallerIsNotBlockedByAWrite) {
  const std::string run = FreshTestDir("not_blocked");
  // About 1.35 M parameters: 16 MB of checkpoint with the two moments.
  const ParameterLayout layout = SmallAlbertLayout(/*vocab_size=*/150000);
  FaultInjectingFileSystem gated(PosixCheckpointFileSystem());
  absl::Notification release, held;
  bool waited_too_long = false;
  gated.SetHook([&](Op op, const std::string&) {
    if (op != Op::kWriteFile || held.HasBeenNotified()) return;
    held.Notify();
    // Bounded, so that a Schedule that blocks fails the test instead of hanging it.
    waited_too_long = !release.WaitForNotificationWithTimeout(absl::Seconds(60));
  });
  AsyncCheckpointWriter writer(run, layout, Retention(0, 0), {&gated, {}});

  CheckpointContents training = TestContents(layout, 10, 3);
  const CheckpointContents snapshot_copy = training;
  ASSERT_TRUE(writer.Schedule(training).ok());  // a copy: `training` stays the caller's
  ASSERT_TRUE(held.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_TRUE(writer.WriteInFlight());
  // "Training" goes on and changes the buffers while the checkpoint is being written.
  for (int step = 0; step < 3; ++step) {
    for (float& x : training.parameters) x += 1.0f;
  }
  EXPECT_TRUE(writer.WriteInFlight());
  release.Notify();
  ASSERT_TRUE(writer.Wait().ok());
  EXPECT_FALSE(waited_too_long);
  EXPECT_FALSE(writer.WriteInFlight());
  EXPECT_EQ(writer.last_written(), run + "/checkpoints/step-000000010");

  absl::StatusOr<CheckpointContents> loaded = LoadCheckpoint(writer.last_written(), layout);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(BitwiseEqual(loaded->parameters, snapshot_copy.parameters));
  EXPECT_TRUE(BitwiseEqual(loaded->exp_avg, snapshot_copy.exp_avg));
}

TEST(AsyncCheckpointWriter, WritesInOrderAndPrunes) {
  const std::string run = FreshTestDir("in_order");
  const ParameterLayout layout = SmallAlbertLayout();
  {
    AsyncCheckpointWriter writer(run, layout, Retention(2, 0));
    for (int64_t step = 1; step <= 5; ++step) ASSERT_TRUE(writer.Schedule(TestContents(layout, step, 1)).ok());
    ASSERT_TRUE(writer.Wait().ok());
    EXPECT_EQ(*ListCheckpointSteps(run), (std::vector<int64_t>{4, 5}));
    EXPECT_EQ(writer.last_written(), run + "/checkpoints/step-000000005");
    // The destructor waits for the write in flight.
    ASSERT_TRUE(writer.Schedule(TestContents(layout, 6, 1)).ok());
  }
  EXPECT_EQ(*ListCheckpointSteps(run), (std::vector<int64_t>{5, 6}));
  EXPECT_TRUE(VerifyCheckpoint(run + "/checkpoints/step-000000006").ok());
}

TEST(AsyncCheckpointWriter, KeepLastZeroKeepsEverything) {
  const std::string run = FreshTestDir("keep_all");
  const ParameterLayout layout = SmallAlbertLayout();
  AsyncCheckpointWriter writer(run, layout, Retention(0, 2));
  for (int64_t step = 1; step <= 3; ++step) ASSERT_TRUE(writer.Schedule(TestContents(layout, step, 1)).ok());
  ASSERT_TRUE(writer.Wait().ok());
  EXPECT_EQ(*ListCheckpointSteps(run), (std::vector<int64_t>{1, 2, 3}));
}

// A failed fsync is reported by Wait and by every later call, and nothing more is written.
TEST(AsyncCheckpointWriter, ErrorsAreSticky) {
  const std::string run = FreshTestDir("sticky");
  const ParameterLayout layout = SmallAlbertLayout();
  FaultInjectingFileSystem faulty(PosixCheckpointFileSystem());
  AsyncCheckpointWriter writer(run, layout, Retention(3, 0), {&faulty, {}});
  ASSERT_TRUE(writer.Schedule(TestContents(layout, 1, 1)).ok());
  ASSERT_TRUE(writer.Wait().ok());
  faulty.FailNth(Op::kSyncFile, 1);  // the optimizer file of the next checkpoint
  ASSERT_TRUE(writer.Schedule(TestContents(layout, 2, 1)).ok());  // the failure is still to come
  const absl::Status error = writer.Wait();
  EXPECT_FALSE(error.ok());
  EXPECT_THAT(error.message(), HasSubstr("optimizer.safetensors: fsync"));
  EXPECT_EQ(writer.Wait(), error);
  EXPECT_EQ(writer.Schedule(TestContents(layout, 3, 1)), error);
  EXPECT_EQ(writer.Wait(), error);
  EXPECT_EQ(*ListCheckpointSteps(run), (std::vector<int64_t>{1}));
  EXPECT_EQ(writer.last_written(), run + "/checkpoints/step-000000001");
}

// An error surfaces on the next Schedule when the caller never waited.
TEST(AsyncCheckpointWriter, ScheduleReportsThePreviousError) {
  const std::string run = FreshTestDir("next_schedule");
  const ParameterLayout layout = SmallAlbertLayout();
  AsyncCheckpointWriter writer(run, layout, Retention(0, 0));
  CheckpointContents wrong = TestContents(layout, 1, 1);
  wrong.exp_avg.resize(3);
  ASSERT_TRUE(writer.Schedule(std::move(wrong)).ok());
  const absl::Status error = writer.Schedule(TestContents(layout, 2, 1));
  EXPECT_TRUE(absl::IsInvalidArgument(error)) << error;
  EXPECT_TRUE(ListCheckpointSteps(run)->empty());
}

}  // namespace
}  // namespace cloze
