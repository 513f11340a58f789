// The loss guard's rollback on synchronous parameter servers (StepUpdate.rollback): 2
// workers × 2 servers over real gRPC on 127.0.0.1, with checkpoints committed as a job
// commits them. The rollback restores exactly the checkpoint's parameters, moments and
// optimizer step while the step count goes on; it happens once per step, whoever asks; a
// checkpoint a server cannot read is refused, naming the server and the path, and the
// servers serve on unchanged.
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "server/ps_testing.h"
#include "checkpoint/checkpoint_parts.h"
#include "checkpoint/checkpoint_testing.h"
#include "rpc/ps_client.h"

namespace cloze {
namespace {

constexpr int kWorkers = 2;
constexpr int kServers = 2;
constexpr float kLearningRate = 0.001f;

std::vector<float> Gradient(int worker, int64_t step, int64_t n) {
  return RandomFloats(300 + 7 * worker + 31 * static_cast<uint64_t>(step), n, 0.01f);
}

// A job's servers and its workers' clients, with the servers' checkpoint parts collected
// so that the test commits them as the coordinator would.
class RollbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    layout_ = PsTestLayout();
    run_dir_ = FreshTestDir("ps_rollback");
    ShardConfig config;
    config.layout = layout_;
    config.optimizer = TestOptimizer(OptimizerConfig::LAMB, 0.0f);
    config.workers = kWorkers;
    config.run_dir = run_dir_;
    config.checkpoint_every_steps = 2;
    config.on_checkpoint_part = [this](int64_t step, const absl::StatusOr<std::vector<CheckpointFile>>& files) {
      ASSERT_TRUE(files.ok()) << files.status();
      absl::MutexLock lock(&mu_);
      for (const CheckpointFile& file : *files) parts_[step].push_back(file);
    };
    servers_ = StartTestServers(config, kServers);
    ASSERT_EQ(servers_.servers.size(), static_cast<size_t>(kServers));
    for (int w = 0; w < kWorkers; ++w) {
      absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
          ParameterServerClient::Connect(servers_.addresses, TestSecurity(), layout_, w, kWorkers);
      ASSERT_TRUE(client.ok()) << client.status();
      clients_.push_back(*std::move(client));
      parameters_.emplace_back(layout_.total_size);
    }
    ASSERT_TRUE(clients_[0]->InitializeParameters(RandomFloats(9, layout_.total_size, 0.02f)).ok());
    for (int w = 0; w < kWorkers; ++w) ASSERT_TRUE(clients_[w]->FetchParameters(parameters_[w]).ok());
  }

  // Both workers push their gradients of `step` (a synchronous push waits for the other).
  void PushBoth(int64_t step) {
    std::vector<absl::Status> statuses(kWorkers);
    std::vector<std::thread> threads;
    for (int w = 0; w < kWorkers; ++w) {
      threads.emplace_back([&, w] {
        statuses[w] = clients_[w]->Push(step, Gradient(w, step, layout_.total_size), {}).status();
      });
    }
    for (std::thread& thread : threads) thread.join();
    for (const absl::Status& status : statuses) ASSERT_TRUE(status.ok()) << status;
  }

  // Steps [first, end), accepted, on both workers.
  void RunSteps(int64_t first, int64_t end) {
    for (int64_t t = first; t < end; ++t) {
      PushBoth(t);
      for (int w = 0; w < kWorkers; ++w) {
        const absl::Status status = clients_[w]->ApplyAndPull(t, kLearningRate, 1.0f, true, parameters_[w]);
        ASSERT_TRUE(status.ok()) << status;
      }
    }
  }

  // Commits the servers' parts of `step` and loads the checkpoint back.
  CheckpointContents Commit(int64_t step) {
    CheckpointManifest manifest;
    manifest.set_step(step);
    {
      absl::MutexLock lock(&mu_);
      EXPECT_EQ(parts_[step].size(), 2u * kServers) << "parts of step " << step;
      for (const CheckpointFile& file : parts_[step]) *manifest.add_files() = file;
    }
    absl::StatusOr<std::string> committed = CommitCheckpoint(run_dir_, manifest);
    EXPECT_TRUE(committed.ok()) << committed.status();
    absl::StatusOr<CheckpointContents> loaded = LoadCheckpoint(committed.value_or(""), layout_);
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return loaded.ok() ? *std::move(loaded) : CheckpointContents{};
  }

  std::string CheckpointDir(int64_t step) const {
    return absl::StrCat(run_dir_, "/checkpoints/", CheckpointDirName(step));
  }

  ParameterLayout layout_;
  std::string run_dir_;
  absl::Mutex mu_;
  std::map<int64_t, std::vector<CheckpointFile>> parts_ ABSL_GUARDED_BY(mu_);
  TestServers servers_;
  std::vector<std::unique_ptr<ParameterServerClient>> clients_;
  std::vector<std::vector<float>> parameters_;  // each worker's copy
};

TEST_F(RollbackTest, RestoresTheCheckpointOnceAndGoesOnFromIt) {
  RunSteps(0, 2);
  const CheckpointContents checkpoint = Commit(2);
  ASSERT_EQ(checkpoint.optimizer_step, 2);
  RunSteps(2, 5);  // the state moves away from the checkpoint
  ASSERT_FALSE(BitwiseEqual(parameters_[0], checkpoint.parameters));

  // Step 5 is the guard's rollback: its gradient is dropped and the servers go back.
  PushBoth(5);
  ASSERT_TRUE(clients_[0]->ApplyAndPull(5, kLearningRate, 1.0f, false, parameters_[0], /*rollback_to=*/2).ok());
  EXPECT_TRUE(BitwiseEqual(parameters_[0], checkpoint.parameters));
  // The second worker's identical request is a no-op that returns the same parameters.
  const absl::Status second = clients_[1]->ApplyAndPull(5, kLearningRate, 1.0f, false, parameters_[1], 2);
  ASSERT_TRUE(second.ok()) << second;
  EXPECT_TRUE(BitwiseEqual(parameters_[1], checkpoint.parameters));
  // Another rollback for the same step is refused: every worker must ask the same.
  std::vector<float> scratch(layout_.total_size);
  const absl::Status other = clients_[1]->ApplyAndPull(5, kLearningRate, 1.0f, false, scratch, /*rollback_to=*/4);
  EXPECT_TRUE(absl::IsFailedPrecondition(other)) << other;
  for (const auto& server : servers_.servers) {
    EXPECT_EQ(server->shard().rollbacks(), 1);
    EXPECT_EQ(server->shard().completed_steps(), 6);  // the step count went on
    EXPECT_NE(server->metrics().ExpositionText().find("cloze_ps_rollbacks_total"), std::string::npos);
  }

  // Step 6 was due: its parts, written after the reload, hold the checkpoint's parameters,
  // moments and optimizer step exactly.
  const CheckpointContents after = Commit(6);
  EXPECT_TRUE(BitwiseEqual(after.parameters, checkpoint.parameters));
  EXPECT_TRUE(BitwiseEqual(after.exp_avg, checkpoint.exp_avg));
  EXPECT_TRUE(BitwiseEqual(after.exp_avg_sq, checkpoint.exp_avg_sq));
  EXPECT_EQ(after.optimizer_step, checkpoint.optimizer_step);

  // Going on from there equals fresh servers restored from the checkpoint at step 6.
  RunSteps(6, 7);
  ShardConfig fresh;
  fresh.layout = layout_;
  fresh.optimizer = TestOptimizer(OptimizerConfig::LAMB, 0.0f);
  fresh.workers = kWorkers;
  TestServers reference = StartTestServers(fresh, kServers);
  ASSERT_EQ(reference.servers.size(), static_cast<size_t>(kServers));
  CheckpointContents at6 = checkpoint;
  at6.step = 6;
  for (const auto& server : reference.servers) ASSERT_TRUE(server->RestoreFrom(at6).ok());
  servers_ = std::move(reference);
  clients_.clear();
  for (int w = 0; w < kWorkers; ++w) {
    absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
        ParameterServerClient::Connect(servers_.addresses, TestSecurity(), layout_, w, kWorkers);
    ASSERT_TRUE(client.ok()) << client.status();
    clients_.push_back(*std::move(client));
  }
  const std::vector<float> rolled_back_then_step6 = parameters_[0];
  RunSteps(6, 7);
  EXPECT_TRUE(BitwiseEqual(parameters_[0], rolled_back_then_step6));
}

TEST_F(RollbackTest, ACheckpointTheServersCannotReadIsRefusedAndChangesNothing) {
  RunSteps(0, 4);
  Commit(2);
  Commit(4);
  // Damage checkpoint 4: one byte of server 1's model file.
  const std::string damaged = absl::StrCat(CheckpointDir(4), "/model-ps-00001-of-00002.safetensors");
  {
    std::fstream file(damaged, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(file.is_open()) << damaged;
    file.seekg(-3, std::ios::end);
    const char byte = static_cast<char>(file.get() ^ 0x55);
    file.seekp(-3, std::ios::end);
    file.put(byte);
  }
  RunSteps(4, 5);
  const std::vector<float> before = parameters_[0];
  PushBoth(5);
  std::vector<float> scratch(layout_.total_size);
  // No checkpoint of step 3: every server says which path it could not load.
  const absl::Status missing = clients_[0]->ApplyAndPull(5, kLearningRate, 1.0f, false, scratch, /*rollback_to=*/3);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("parameter server 0"), std::string::npos) << missing;
  EXPECT_NE(missing.message().find(CheckpointDir(3)), std::string::npos) << missing;
  // Damaged: server 1 refuses (DataLoss); server 0, whose files are intact, reads the whole
  // checkpoint too (LoadCheckpoint verifies every file), so it refuses as well.
  const absl::Status bad = clients_[1]->ApplyAndPull(5, kLearningRate, 1.0f, false, scratch, /*rollback_to=*/4);
  EXPECT_TRUE(absl::IsDataLoss(bad)) << bad;
  EXPECT_NE(bad.message().find(CheckpointDir(4)), std::string::npos) << bad;
  for (const auto& server : servers_.servers) {
    EXPECT_EQ(server->shard().rollbacks(), 0);
    EXPECT_EQ(server->shard().completed_steps(), 5);  // step 5 not applied
  }
  // The servers serve on, unchanged: step 5 pulls the same parameters, then applies.
  std::vector<float> fetched(layout_.total_size);
  ASSERT_TRUE(clients_[0]->FetchParameters(fetched).ok());
  EXPECT_TRUE(BitwiseEqual(fetched, before));
  for (int w = 0; w < kWorkers; ++w) {
    const absl::Status status = clients_[w]->ApplyAndPull(5, kLearningRate, 1.0f, true, parameters_[w]);
    ASSERT_TRUE(status.ok()) << status;
  }
  EXPECT_FALSE(BitwiseEqual(parameters_[0], before));
  RunSteps(6, 7);
}

TEST(RollbackRefusalTest, BoundedStalenessServersDoNotRollBack) {
  ShardConfig config;
  config.layout = PsTestLayout();
  config.optimizer = TestOptimizer(OptimizerConfig::LAMB, 0.0f);
  config.workers = 1;
  config.consistency = DistributedConfig::BOUNDED_STALENESS;
  config.run_dir = FreshTestDir("ps_rollback_stale");
  absl::StatusOr<std::unique_ptr<ParameterShard>> shard = ParameterShard::Create(config);
  ASSERT_TRUE(shard.ok()) << shard.status();
  ASSERT_TRUE((*shard)->InitializeFrom(RandomFloats(3, config.layout.total_size, 0.02f)).ok());
  absl::StatusOr<float*> buffer = (*shard)->BeginPush(0, 0, {});
  ASSERT_TRUE(buffer.ok()) << buffer.status();
  ASSERT_TRUE((*shard)->FinishPush(0, 0, nullptr).ok());
  const absl::StatusOr<PullView> refused =
      (*shard)->Pull(0, 0, StepUpdateArgs{0.001f, 1.0f, false, /*rollback_to=*/0}, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_TRUE((*shard)->Pull(0, 0, StepUpdateArgs{0.001f, 1.0f, false}, nullptr).ok());
}

}  // namespace
}  // namespace cloze
