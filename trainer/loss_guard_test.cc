#include "trainer/loss_guard.h"

#include <limits>

#include "gtest/gtest.h"

namespace cloze {
namespace {

GuardConfig Config() {
  GuardConfig c;
  c.set_spike_factor(3.0f);
  c.set_spike_warmup_steps(5);
  c.set_max_consecutive_skips(3);
  c.set_rollback_lr_factor(0.5f);
  return c;
}

TEST(LossGuard, AcceptsNormalLossesAndTracksTheirMean) {
  LossGuard guard(Config(), DefaultTrainerState());
  for (double loss : {10.0, 9.0, 8.0, 7.0}) EXPECT_EQ(guard.Check(loss, 1.0), GuardDecision::kAccept);
  TrainerState state;
  guard.Save(&state);
  EXPECT_DOUBLE_EQ(state.loss_mean(), 8.5);
  EXPECT_EQ(state.accepted_steps(), 4);
}

TEST(LossGuard, SkipsNonFiniteAndSpikesThenRollsBack) {
  LossGuard guard(Config(), DefaultTrainerState());
  for (int i = 0; i < 5; ++i) ASSERT_EQ(guard.Check(2.0, 1.0), GuardDecision::kAccept);
  EXPECT_EQ(guard.Check(std::numeric_limits<double>::quiet_NaN(), 1.0), GuardDecision::kSkip);
  EXPECT_EQ(guard.reason(), "loss is nan");
  EXPECT_EQ(guard.Check(2.0, std::numeric_limits<double>::infinity()), GuardDecision::kSkip);
  EXPECT_EQ(guard.Check(7.0, 1.0), GuardDecision::kRollback);  // 7 > 3 x 2: third in a row
  EXPECT_FLOAT_EQ(guard.learning_rate_scale(), 0.5f);
  EXPECT_EQ(guard.skipped_steps(), 3);
  EXPECT_EQ(guard.Check(5.9, 1.0), GuardDecision::kAccept);  // below 3 x 2
}

TEST(LossGuard, NoSpikeChecksDuringWarmupAndStateRoundTrips) {
  LossGuard guard(Config(), DefaultTrainerState());
  EXPECT_EQ(guard.Check(1.0, 1.0), GuardDecision::kAccept);
  EXPECT_EQ(guard.Check(100.0, 1.0), GuardDecision::kAccept);  // only 1 accepted step so far
  TrainerState saved;
  guard.Save(&saved);
  LossGuard resumed(Config(), saved);
  LossGuard original = guard;
  for (double loss : {40.0, 45.0, 500.0, 30.0}) EXPECT_EQ(resumed.Check(loss, 1.0), original.Check(loss, 1.0));
}

}  // namespace
}  // namespace cloze
