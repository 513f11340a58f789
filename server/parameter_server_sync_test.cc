// Synchronous parameter-server mode against the all-reduce trainer's arithmetic: 2 workers
// (threads) × 2 servers over real gRPC on 127.0.0.1, against a local reference doing
// sum → clip (kernels/cpu/clip.h) → Optimizer::Step over the whole buffer.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <thread>

#include "gtest/gtest.h"
#include "server/ps_testing.h"
#include "kernels/cpu/clip.h"
#include "kernels/cpu/optimizer.h"
#include "rpc/ps_client.h"

namespace cloze {
namespace {

constexpr int kWorkers = 2;
constexpr int kServers = 2;
constexpr int kSteps = 4;

std::vector<float> Gradient(int worker, int64_t step, int64_t n) {
  return RandomFloats(1000 + 17 * worker + 101 * static_cast<uint64_t>(step), n, 0.01f);
}
std::vector<double> Statistics(int worker, int64_t step) { return {1.5 * worker + step, 10.0 + worker, 0.25}; }
float LearningRate(int64_t step) { return 0.001f * static_cast<float>(step + 1); }
bool Accept(int64_t step) { return step != 2; }  // the guard skips step 2

struct Outcome {
  std::vector<float> parameters;
  std::vector<double> norms_squared;
  std::vector<std::vector<double>> statistics;
};

// One worker's steps through the client, as the lead's distributed trainer runs them.
Outcome RunWorker(const std::vector<std::string>& addresses, const ParameterLayout& layout, int rank,
                  const std::vector<float>& initial, float max_grad_norm) {
  Outcome outcome;
  absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
      ParameterServerClient::Connect(addresses, TestSecurity(), layout, rank, kWorkers);
  if (!client.ok()) {
    ADD_FAILURE() << client.status();
    return outcome;
  }
  if (rank == 0) {
    const absl::Status init = (*client)->InitializeParameters(initial);
    EXPECT_TRUE(init.ok()) << init;
  }
  outcome.parameters.assign(layout.total_size, 0.0f);
  int64_t completed = -1;
  const absl::Status fetched = (*client)->FetchParameters(outcome.parameters, &completed);
  EXPECT_TRUE(fetched.ok()) << fetched;
  EXPECT_EQ(completed, 0);
  for (int64_t step = 0; step < kSteps; ++step) {
    const std::vector<float> gradient = Gradient(rank, step, layout.total_size);
    const std::vector<double> statistics = Statistics(rank, step);
    absl::StatusOr<ParameterServerClient::PushResult> pushed = (*client)->Push(step, gradient, statistics);
    if (!pushed.ok()) {
      ADD_FAILURE() << "worker " << rank << ": " << pushed.status();
      return outcome;
    }
    outcome.norms_squared.push_back(pushed->gradient_norm_squared);
    outcome.statistics.push_back(pushed->statistics);
    const float clip = ClipCoefficient(std::sqrt(pushed->gradient_norm_squared), max_grad_norm);
    const absl::Status applied =
        (*client)->ApplyAndPull(step, LearningRate(step), clip, Accept(step), outcome.parameters);
    if (!applied.ok()) {
      ADD_FAILURE() << "worker " << rank << ": " << applied;
      return outcome;
    }
  }
  return outcome;
}

// What the all-reduce trainer computes.
Outcome RunReference(const ParameterLayout& layout, const OptimizerConfig& config, const std::vector<float>& initial) {
  Outcome outcome;
  outcome.parameters = initial;
  Optimizer optimizer(config, layout);
  for (int64_t step = 0; step < kSteps; ++step) {
    std::vector<float> sum = Gradient(0, step, layout.total_size);
    const std::vector<float> other = Gradient(1, step, layout.total_size);
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += other[i];
    const ClipResult clip = ClipGradientsByGlobalNorm(sum, config.max_grad_norm());
    outcome.norms_squared.push_back(clip.norm * clip.norm);
    if (Accept(step)) optimizer.Step(outcome.parameters, sum, LearningRate(step));
  }
  return outcome;
}

double RelativeDifference(const std::vector<float>& a, const std::vector<float>& b) {
  double difference = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    difference += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(difference / norm);
}

class SynchronousTest : public testing::TestWithParam<std::tuple<OptimizerConfig::Kind, float>> {};

TEST_P(SynchronousTest, MatchesAllReduceArithmetic) {
  const auto [kind, max_grad_norm] = GetParam();
  const ParameterLayout layout = PsTestLayout();
  ShardConfig config;
  config.layout = layout;
  config.optimizer = TestOptimizer(kind, max_grad_norm);
  config.workers = kWorkers;
  config.update_group_floats = 1;  // the pulls stream while every tensor is updated in turn
  TestServers servers = StartTestServers(config, kServers);
  ASSERT_EQ(servers.servers.size(), kServers);

  const std::vector<float> initial = RandomFloats(7, layout.total_size, 0.02f);
  std::vector<Outcome> outcomes(kWorkers);
  std::vector<std::thread> workers;
  for (int rank = 0; rank < kWorkers; ++rank) {
    workers.emplace_back([&, rank] {
      outcomes[rank] = RunWorker(servers.addresses, layout, rank, initial, max_grad_norm);
    });
  }
  for (std::thread& worker : workers) worker.join();
  const Outcome reference = RunReference(layout, config.optimizer, initial);

  for (int rank = 0; rank < kWorkers; ++rank) {
    SCOPED_TRACE(testing::Message() << "worker " << rank);
    ASSERT_EQ(outcomes[rank].parameters.size(), reference.parameters.size());
    ASSERT_EQ(outcomes[rank].norms_squared.size(), static_cast<size_t>(kSteps));
    const double difference = RelativeDifference(outcomes[rank].parameters, reference.parameters);
    std::printf("max_grad_norm %g, worker %d: relative difference from the all-reduce reference %g\n",
                max_grad_norm, rank, difference);
    EXPECT_LE(difference, 1e-6);
    if (max_grad_norm == 0) {
      // No clip coefficient to round differently: the servers compute the trainer's bits.
      EXPECT_EQ(std::memcmp(outcomes[rank].parameters.data(), reference.parameters.data(),
                            reference.parameters.size() * sizeof(float)),
                0);
    }
    for (int64_t step = 0; step < kSteps; ++step) {
      EXPECT_NEAR(outcomes[rank].norms_squared[step], reference.norms_squared[step],
                  1e-12 * reference.norms_squared[step]);
      const std::vector<double> expected = {Statistics(0, step)[0] + Statistics(1, step)[0],
                                            Statistics(0, step)[1] + Statistics(1, step)[1],
                                            Statistics(0, step)[2] + Statistics(1, step)[2]};
      EXPECT_EQ(outcomes[rank].statistics[step], expected);
    }
  }
  // Both workers hold the same parameters, bit for bit.
  EXPECT_EQ(std::memcmp(outcomes[0].parameters.data(), outcomes[1].parameters.data(),
                        reference.parameters.size() * sizeof(float)),
            0);
  for (const auto& server : servers.servers) {
    EXPECT_EQ(server->shard().completed_steps(), kSteps);
    EXPECT_EQ(server->shard().updates_applied(), kSteps - 1);
    EXPECT_EQ(server->shard().updates_skipped(), 1);
    const std::string metrics = server->metrics().ExpositionText();
    EXPECT_NE(metrics.find("cloze_ps_steps_applied_total"), std::string::npos) << metrics;
  }
}

INSTANTIATE_TEST_SUITE_P(LambAndAdamW, SynchronousTest,
                         testing::Combine(testing::Values(OptimizerConfig::LAMB, OptimizerConfig::ADAMW),
                                          testing::Values(1.0f, 0.0f)));

// The update of a step is the same for everyone: a worker asking for another is refused.
TEST(SynchronousProtocolTest, MismatchedUpdateIsRefused) {
  const ParameterLayout layout = PsTestLayout();
  ShardConfig config;
  config.layout = layout;
  config.optimizer = TestOptimizer(OptimizerConfig::LAMB, 1.0f);
  config.workers = 2;
  absl::StatusOr<std::unique_ptr<ParameterShard>> shard = ParameterShard::Create(config);
  ASSERT_TRUE(shard.ok()) << shard.status();
  ASSERT_TRUE((*shard)->InitializeFrom(RandomFloats(1, layout.total_size, 0.02f)).ok());
  std::vector<std::thread> pushers;
  for (int w = 0; w < 2; ++w) {
    pushers.emplace_back([&, w] {
      absl::StatusOr<float*> buffer = (*shard)->BeginPush(w, 0, {});
      ASSERT_TRUE(buffer.ok()) << buffer.status();
      std::fill(*buffer, *buffer + (*shard)->range().size, 0.5f);
      EXPECT_TRUE((*shard)->FinishPush(w, 0, nullptr).ok());
    });
  }
  for (std::thread& t : pushers) t.join();
  EXPECT_TRUE((*shard)->Pull(0, 0, StepUpdateArgs{0.01f, 1.0f, true}, nullptr).ok());
  const absl::StatusOr<PullView> other = (*shard)->Pull(1, 0, StepUpdateArgs{0.02f, 1.0f, true}, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(other.status())) << other.status();
  EXPECT_NE(other.status().message().find("worker 1"), std::string::npos) << other.status();
  EXPECT_TRUE((*shard)->Pull(1, 0, StepUpdateArgs{0.01f, 1.0f, true}, nullptr).ok());
  // Pushing step 0 again, or step 2, is out of turn.
  EXPECT_TRUE(absl::IsInvalidArgument((*shard)->BeginPush(0, 0, {}).status()));
  EXPECT_TRUE(absl::IsInvalidArgument((*shard)->BeginPush(0, 2, {}).status()));
}

}  // namespace
}  // namespace cloze
