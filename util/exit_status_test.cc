#include "util/exit_status.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cloze {
namespace {

TEST(ExitStatusTest, OkIsZeroWhateverIsAttached) {
  EXPECT_EQ(ExitStatusOf(absl::OkStatus()), kExitOk);
  EXPECT_EQ(ExitStatusOf(WithExitStatus(absl::OkStatus(), kExitDataError)), kExitOk);
}

TEST(ExitStatusTest, TheAttachedStatusTravelsWithTheError) {
  const absl::Status bad = WithExitStatus(absl::DataLossError("shard-00001: corrupt"), kExitDataError);
  EXPECT_EQ(ExitStatusOf(bad), kExitDataError);
  const absl::Status passed_on = bad;  // returned unchanged up the stack
  EXPECT_EQ(ExitStatusOf(passed_on), kExitDataError);
  EXPECT_EQ(passed_on.message(), "shard-00001: corrupt");
}

TEST(ExitStatusTest, APrefixedMessageKeepsTheCodeAndTheExitStatus) {
  const absl::Status full = WithExitStatus(absl::ResourceExhaustedError("a: write: No space left on device"),
                                           kExitCannotWrite);
  const absl::Status prefixed = WithMessagePrefix(full, "checkpoint of step 80: ");
  EXPECT_EQ(prefixed.message(), "checkpoint of step 80: a: write: No space left on device");
  EXPECT_TRUE(absl::IsResourceExhausted(prefixed));
  EXPECT_EQ(ExitStatusOf(prefixed), kExitCannotWrite);
  EXPECT_TRUE(WithMessagePrefix(absl::OkStatus(), "x").ok());
}

TEST(ExitStatusTest, WithoutOneAnErrorIsTransient) {
  EXPECT_EQ(ExitStatusOf(absl::AbortedError("generation ended")), kExitFailure);
  EXPECT_EQ(ExitStatusOf(absl::DataLossError("write failed")), kExitFailure);
  EXPECT_EQ(ExitStatusOf(absl::InvalidArgumentError("x")), kExitFailure);
}

TEST(ExitStatusTest, BadInputIsPermanentAnIoErrorIsNot) {
  EXPECT_EQ(ExitStatusOf(PermanentIfBadInput(absl::DataLossError("x"), kExitNoCheckpoint)), kExitNoCheckpoint);
  EXPECT_EQ(ExitStatusOf(PermanentIfBadInput(absl::NotFoundError("x"), kExitUsage)), kExitUsage);
  EXPECT_EQ(ExitStatusOf(PermanentIfBadInput(absl::UnavailableError("x"), kExitUsage)), kExitFailure);
  EXPECT_EQ(ExitStatusOf(PermanentIfBadInput(absl::InternalError("read failed"), kExitUsage)), kExitFailure);
}

TEST(ExitStatusTest, OnlyUsageDataCheckpointAndStorageErrorsArePermanent) {
  for (int status : {kExitUsage, kExitDataError, kExitNoCheckpoint, kExitCannotWrite}) {
    EXPECT_TRUE(IsPermanentExit(status)) << status;
    EXPECT_NE(ExitStatusMeaning(status), "") << status;
  }
  for (int status : {kExitOk, kExitFailure, kExitRestart, 3, 137}) EXPECT_FALSE(IsPermanentExit(status)) << status;
}

}  // namespace
}  // namespace cloze
