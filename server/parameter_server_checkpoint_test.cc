// Parameter servers' checkpoint parts: written when a checkpoint step is applied, committed
// as one checkpoint, and restored by fresh servers that then continue exactly.
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

constexpr int kServers = 2;

// Steps [first, end) of one worker; returns the parameters after them.
std::vector<float> RunSteps(ParameterServerClient& client, const ParameterLayout& layout, int64_t first, int64_t end,
                            std::vector<float> parameters) {
  for (int64_t t = first; t < end; ++t) {
    const std::vector<float> gradient = RandomFloats(50 + t, layout.total_size, 0.01f);
    absl::StatusOr<ParameterServerClient::PushResult> pushed = client.Push(t, gradient, {});
    EXPECT_TRUE(pushed.ok()) << pushed.status();
    const absl::Status applied = client.ApplyAndPull(t, 0.001f, 1.0f, true, parameters);
    EXPECT_TRUE(applied.ok()) << applied;
  }
  return parameters;
}

TEST(ParameterServerCheckpointTest, PartsCommitAndRestoreExactly) {
  const ParameterLayout layout = PsTestLayout();
  const std::string run_dir = FreshTestDir("ps_checkpoint");
  absl::Mutex mu;
  std::map<int64_t, std::vector<CheckpointFile>> parts;  // step → both servers' files
  ShardConfig config;
  config.layout = layout;
  config.optimizer = TestOptimizer(OptimizerConfig::LAMB, 0.0f);
  config.workers = 1;
  config.run_dir = run_dir;
  config.checkpoint_every_steps = 2;
  config.total_steps = 3;
  config.on_checkpoint_part = [&](int64_t step, const absl::StatusOr<std::vector<CheckpointFile>>& files) {
    ASSERT_TRUE(files.ok()) << files.status();
    absl::MutexLock lock(&mu);
    for (const CheckpointFile& file : *files) parts[step].push_back(file);
  };
  TestServers servers = StartTestServers(config, kServers);
  ASSERT_EQ(servers.servers.size(), static_cast<size_t>(kServers));
  absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
      ParameterServerClient::Connect(servers.addresses, TestSecurity(), layout, 0, 1);
  ASSERT_TRUE(client.ok()) << client.status();
  const std::vector<float> initial = RandomFloats(5, layout.total_size, 0.02f);
  ASSERT_TRUE((*client)->InitializeParameters(initial).ok());
  const std::vector<float> after2 = RunSteps(**client, layout, 0, 2, initial);
  const std::vector<float> after3 = RunSteps(**client, layout, 2, 3, after2);

  // Steps 2 (every 2) and 3 (the last) were written, each as two parts of two files.
  {
    absl::MutexLock lock(&mu);
    ASSERT_EQ(parts.size(), 2u);
    ASSERT_EQ(parts[2].size(), 4u);
    ASSERT_EQ(parts[3].size(), 4u);
  }
  EXPECT_TRUE(absl::IsFailedPrecondition(servers.servers[0]->WriteCheckpointPart(2).status()));
  CheckpointManifest manifest;
  manifest.set_step(2);
  for (const CheckpointFile& file : parts[2]) *manifest.add_files() = file;
  absl::StatusOr<std::string> committed = CommitCheckpoint(run_dir, manifest);
  ASSERT_TRUE(committed.ok()) << committed.status();
  absl::StatusOr<CheckpointContents> loaded = LoadCheckpoint(*committed, layout);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(BitwiseEqual(loaded->parameters, after2));
  EXPECT_EQ(loaded->optimizer_step, 2);

  // Fresh servers restored from it continue exactly as the uninterrupted ones did.
  ShardConfig fresh = config;
  fresh.run_dir.clear();
  TestServers restored = StartTestServers(fresh, kServers);
  ASSERT_EQ(restored.servers.size(), static_cast<size_t>(kServers));
  for (const auto& server : restored.servers) {
    const absl::Status status = server->RestoreFromCheckpoint(*committed);
    ASSERT_TRUE(status.ok()) << status;
  }
  absl::StatusOr<std::unique_ptr<ParameterServerClient>> resumed =
      ParameterServerClient::Connect(restored.addresses, TestSecurity(), layout, 0, 1);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  std::vector<float> parameters(layout.total_size);
  int64_t completed = -1;
  ASSERT_TRUE((*resumed)->FetchParameters(parameters, &completed).ok());
  EXPECT_EQ(completed, 2);
  EXPECT_TRUE(BitwiseEqual(parameters, after2));
  // A restored server refuses a second initialisation.
  EXPECT_TRUE(absl::IsFailedPrecondition((*resumed)->InitializeParameters(initial)));
  EXPECT_TRUE(BitwiseEqual(RunSteps(**resumed, layout, 2, 3, parameters), after3));
}

}  // namespace
}  // namespace cloze
