// The synchronous shard's overlapped update (parameter_shard.h): Pull returns while the
// updater thread applies the step tensor by tensor; a reader that copies each piece as
// soon as AwaitValues says it is final gets bitwise the full-buffer Optimizer::Step; a
// view of the previous parameters holds the next update back, and a push of the next
// step is refused while the update runs.
#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "server/parameter_shard.h"
#include "server/ps_testing.h"
#include "kernels/cpu/optimizer.h"

namespace cloze {
namespace {

constexpr int kPieces = 37;  // no relation to tensor boundaries

ShardConfig OverlapConfig(OptimizerConfig::Kind kind) {
  ShardConfig config;
  config.layout = PsTestLayout();
  config.optimizer = TestOptimizer(kind, 1.0f);
  config.workers = 1;
  config.update_group_floats = 1;  // progress after every tensor
  return config;
}

absl::Status PushStep(ParameterShard& shard, int64_t step, const std::vector<float>& gradient) {
  absl::StatusOr<float*> buffer = shard.BeginPush(0, step, {});
  if (!buffer.ok()) return buffer.status();
  std::copy(gradient.begin(), gradient.end(), *buffer);
  return shard.FinishPush(0, step, nullptr).status();
}

// Copies the view piece by piece, each as soon as it is final.
std::vector<float> CopyAsFinal(const PullView& view) {
  const int64_t size = static_cast<int64_t>(view.values().size());
  std::vector<float> copy(size);
  for (int piece = 1; piece <= kPieces; ++piece) {
    const int64_t begin = size * (piece - 1) / kPieces, end = size * piece / kPieces;
    const absl::Status status = view.AwaitValues(end, nullptr);
    EXPECT_TRUE(status.ok()) << status;
    std::copy(view.values().begin() + begin, view.values().begin() + end, copy.begin() + begin);
  }
  return copy;
}

bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class OverlapTest : public testing::TestWithParam<OptimizerConfig::Kind> {};

TEST_P(OverlapTest, PiecesCopiedAsTheyBecomeFinalAreTheFullStep) {
  const ShardConfig config = OverlapConfig(GetParam());
  absl::StatusOr<std::unique_ptr<ParameterShard>> shard = ParameterShard::Create(config);
  ASSERT_TRUE(shard.ok()) << shard.status();
  std::vector<float> reference = RandomFloats(3, config.layout.total_size, 0.02f);
  ASSERT_TRUE((*shard)->InitializeFrom(reference).ok());
  Optimizer optimizer(config.optimizer, config.layout);
  for (int64_t step = 0; step < 3; ++step) {
    std::vector<float> gradient = RandomFloats(100 + step, config.layout.total_size, 0.05f);
    ASSERT_TRUE(PushStep(**shard, step, gradient).ok());
    const StepUpdateArgs update{0.01f, step == 1 ? 1.0f : 0.5f, true};
    absl::StatusOr<PullView> view = (*shard)->Pull(0, step, update, nullptr);
    ASSERT_TRUE(view.ok()) << view.status();
    EXPECT_EQ(view->completed_steps(), step + 1);
    const std::vector<float> pulled = CopyAsFinal(*view);
    for (float& g : gradient) g *= update.clip_coefficient;  // as kernels/cpu/clip.h
    optimizer.Step(reference, gradient, update.learning_rate);
    ASSERT_TRUE(BitwiseEqual(pulled, reference)) << "step " << step;
    EXPECT_EQ((*shard)->completed_steps(), step + 1);
  }
}

TEST_P(OverlapTest, AnOpenViewHoldsTheNextUpdateBack) {
  const ShardConfig config = OverlapConfig(GetParam());
  absl::StatusOr<std::unique_ptr<ParameterShard>> created = ParameterShard::Create(config);
  ASSERT_TRUE(created.ok()) << created.status();
  ParameterShard& shard = **created;
  ASSERT_TRUE(shard.InitializeFrom(RandomFloats(3, config.layout.total_size, 0.02f)).ok());
  const StepUpdateArgs update{0.01f, 1.0f, true};
  ASSERT_TRUE(PushStep(shard, 0, RandomFloats(100, config.layout.total_size, 0.05f)).ok());
  absl::StatusOr<PullView> old_view = shard.Pull(0, 0, update, nullptr);
  ASSERT_TRUE(old_view.ok()) << old_view.status();
  const std::vector<float> step_one = CopyAsFinal(*old_view);

  // Step 1 starts (Pull returns its view) but may not write while old_view lives.
  ASSERT_TRUE(PushStep(shard, 1, RandomFloats(101, config.layout.total_size, 0.05f)).ok());
  absl::StatusOr<PullView> new_view = shard.Pull(0, 1, update, nullptr);
  ASSERT_TRUE(new_view.ok()) << new_view.status();
  std::atomic<bool> final = false;
  std::thread reader([&] {
    EXPECT_TRUE(new_view->AwaitValues(static_cast<int64_t>(new_view->values().size()), nullptr).ok());
    final = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(final.load());
  EXPECT_TRUE(BitwiseEqual(std::vector<float>(old_view->values().begin(), old_view->values().end()), step_one));
  EXPECT_EQ(shard.completed_steps(), 1);  // step 1 is not applied yet
  // No worker can hold step 1's parameters yet, so a push of step 2 is out of turn.
  const absl::StatusOr<float*> early = shard.BeginPush(0, 2, {});
  EXPECT_TRUE(absl::IsFailedPrecondition(early.status())) << early.status();
  *old_view = PullView();  // released: the update runs
  reader.join();
  EXPECT_TRUE(final.load());
  EXPECT_EQ(shard.completed_steps(), 2);
  EXPECT_TRUE(PushStep(shard, 2, RandomFloats(102, config.layout.total_size, 0.05f)).ok());
}

TEST(OverlapConfigTest, RefusesAnEmptyGroup) {
  ShardConfig config = OverlapConfig(OptimizerConfig::LAMB);
  config.update_group_floats = 0;
  const absl::StatusOr<std::unique_ptr<ParameterShard>> shard = ParameterShard::Create(config);
  EXPECT_TRUE(absl::IsInvalidArgument(shard.status())) << shard.status();
  EXPECT_NE(shard.status().message().find("update_group_floats"), std::string::npos) << shard.status();
}

INSTANTIATE_TEST_SUITE_P(LambAndAdamW, OverlapTest, testing::Values(OptimizerConfig::LAMB, OptimizerConfig::ADAMW));

}  // namespace
}  // namespace cloze
