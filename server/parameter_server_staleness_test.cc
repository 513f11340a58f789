// Bounded-staleness mode: workers run ahead of each other by at most max_staleness steps.
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "gtest/gtest.h"
#include "server/ps_testing.h"
#include "rpc/ps_client.h"

namespace cloze {
namespace {

ShardConfig StaleConfig(int workers, int max_staleness) {
  ShardConfig config;
  config.layout = PsTestLayout();
  config.optimizer = TestOptimizer(OptimizerConfig::ADAMW, 1.0f);
  config.workers = workers;
  config.consistency = DistributedConfig::BOUNDED_STALENESS;
  config.max_staleness = max_staleness;
  return config;
}

// Drives the shard directly: a worker k + 1 steps ahead waits for the slow one.
TEST(BoundedStalenessTest, FastWorkerWaitsForTheSlowOne) {
  constexpr int kStaleness = 1;
  absl::StatusOr<std::unique_ptr<ParameterShard>> shard = ParameterShard::Create(StaleConfig(2, kStaleness));
  ASSERT_TRUE(shard.ok()) << shard.status();
  ParameterShard& s = **shard;
  ASSERT_TRUE(s.InitializeFrom(RandomFloats(1, s.range().size, 0.02f)).ok());
  const auto step = [&](int worker, int64_t t) -> absl::StatusOr<PullView> {
    absl::StatusOr<float*> buffer = s.BeginPush(worker, t, {});
    if (!buffer.ok()) return buffer.status();
    const std::vector<float> gradient = RandomFloats(10 * worker + t, s.range().size, 0.01f);
    std::copy(gradient.begin(), gradient.end(), *buffer);
    absl::StatusOr<PushOutcome> pushed = s.FinishPush(worker, t, nullptr);
    if (!pushed.ok()) return pushed.status();
    return s.Pull(worker, t, StepUpdateArgs{0.001f, 1.0f, true}, nullptr);
  };
  // Worker 0 may finish steps 0 .. k alone: the parameters it gets lag by <= k steps.
  for (int64_t t = 0; t < kStaleness; ++t) ASSERT_TRUE(step(0, t).ok());
  std::atomic<bool> returned = false;
  std::thread ahead([&] {
    EXPECT_TRUE(step(0, kStaleness).ok());
    returned = true;
  });
  // Its step k needs worker 1's step 0 first; nothing else can release it.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(returned.load());
  EXPECT_EQ(s.completed_steps(), 0);  // the slowest clock
  ASSERT_TRUE(step(1, 0).ok());
  ahead.join();
  EXPECT_TRUE(returned.load());
  EXPECT_EQ(s.updates_applied(), kStaleness + 2);
  // Out-of-order pushes are refused.
  EXPECT_TRUE(absl::IsInvalidArgument(s.BeginPush(1, 5, {}).status()));
}

// Through gRPC: two workers at different speeds, 2 servers; after every step the slowest
// worker is at most k steps behind the parameters a worker receives.
TEST(BoundedStalenessTest, WorkersOverGrpcRespectTheBound) {
  constexpr int kWorkers = 2, kStaleness = 2, kSteps = 8;
  const ShardConfig config = StaleConfig(kWorkers, kStaleness);
  TestServers servers = StartTestServers(config, 2);
  ASSERT_EQ(servers.servers.size(), 2u);
  const ParameterLayout& layout = config.layout;
  std::atomic<int> violations = 0;
  std::vector<std::thread> workers;
  for (int rank = 0; rank < kWorkers; ++rank) {
    workers.emplace_back([&, rank] {
      absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
          ParameterServerClient::Connect(servers.addresses, TestSecurity(), layout, rank, kWorkers);
      ASSERT_TRUE(client.ok()) << client.status();
      if (rank == 0) {
        ASSERT_TRUE((*client)->InitializeParameters(RandomFloats(3, layout.total_size, 0.02f)).ok());
      }
      std::vector<float> parameters(layout.total_size);
      ASSERT_TRUE((*client)->FetchParameters(parameters).ok());
      for (int64_t t = 0; t < kSteps; ++t) {
        if (rank == 1) std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the slow one
        const std::vector<float> gradient = RandomFloats(100 * rank + t, layout.total_size, 0.01f);
        const std::vector<double> statistics = {1.0 * t};
        absl::StatusOr<ParameterServerClient::PushResult> pushed = (*client)->Push(t, gradient, statistics);
        ASSERT_TRUE(pushed.ok()) << pushed.status();
        EXPECT_EQ(pushed->statistics, std::vector<double>{1.0 * t});  // its own, not summed
        const float clip = ClipCoefficient(std::sqrt(pushed->gradient_norm_squared), 1.0);
        ASSERT_TRUE((*client)->ApplyAndPull(t, 0.001f, clip, true, parameters).ok());
        for (const auto& server : servers.servers) {
          if (server->shard().completed_steps() < t + 1 - kStaleness) ++violations;
        }
      }
      for (float p : parameters) ASSERT_TRUE(std::isfinite(p));
    });
  }
  for (std::thread& worker : workers) worker.join();
  EXPECT_EQ(violations.load(), 0);
  for (const auto& server : servers.servers) {
    EXPECT_EQ(server->shard().updates_applied(), kWorkers * kSteps);  // one update per gradient
    EXPECT_EQ(server->shard().completed_steps(), kSteps);
  }
}

}  // namespace
}  // namespace cloze
