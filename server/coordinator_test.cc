// The coordinator over real gRPC on 127.0.0.1 with the real client: ranks and generations,
// failure detection, coordinated checkpoints, a coordinator restart, metrics.
#include "server/coordinator.h"

#include <filesystem>
#include <future>
#include <span>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"
#include "server/coordinator_testing.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/checkpoint_parts.h"
#include "checkpoint/checkpoint_testing.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;

// Registers every client concurrently (a generation forms only when all are in).
std::vector<RegisterResponse> RegisterAll(const std::vector<CoordinatorClient*>& clients) {
  std::vector<std::future<absl::StatusOr<RegisterResponse>>> futures;
  for (CoordinatorClient* client : clients) {
    futures.push_back(std::async(std::launch::async, [client] { return client->Register(absl::Seconds(30)); }));
  }
  std::vector<RegisterResponse> responses;
  for (auto& future : futures) {
    absl::StatusOr<RegisterResponse> response = future.get();
    EXPECT_TRUE(response.ok()) << response.status();
    responses.push_back(response.ok() ? *response : RegisterResponse());
  }
  return responses;
}

TEST(CoordinatorTest, RanksAndTheRegisterLongPoll) {
  const std::string run = FreshTestDir("ranks");
  auto server = StartTestServer(run, {.workers = 2, .servers = 1});
  ASSERT_NE(server, nullptr);
  auto worker_a = TestClient(server->port(), WORKER, /*requested_rank=*/1);
  auto worker_b = TestClient(server->port(), WORKER, -1);
  auto ps = TestClient(server->port(), PARAMETER_SERVER, -1, "127.0.0.1:7777");

  // Alone, the first member waits: the long poll ends at its deadline.
  EXPECT_TRUE(absl::IsDeadlineExceeded(worker_a->Register(absl::Milliseconds(300)).status()));
  // Another process asking for the rank the live waiting member holds is refused.
  auto intruder = TestClient(server->port(), WORKER, 1);
  EXPECT_TRUE(absl::IsAlreadyExists(intruder->Register(absl::Seconds(1)).status()));

  std::vector<RegisterResponse> answers = RegisterAll({worker_a.get(), worker_b.get(), ps.get()});
  EXPECT_EQ(answers[0].rank(), 1);
  EXPECT_EQ(answers[1].rank(), 0);
  EXPECT_EQ(answers[2].rank(), 0);
  for (const RegisterResponse& answer : answers) {
    EXPECT_EQ(answer.generation(), 1);
    EXPECT_EQ(answer.world_size(), 2);
    EXPECT_EQ(answer.num_servers(), 1);
    ASSERT_EQ(answer.server_addresses_size(), 1);
    EXPECT_EQ(answer.server_addresses(0), "127.0.0.1:7777");
    EXPECT_EQ(answer.run_dir(), run);
    EXPECT_EQ(answer.resume_step(), 0);
    EXPECT_DOUBLE_EQ(answer.heartbeat_interval_seconds(), 0.1);
  }
  // Registering again (a client retrying after a lost answer) gets the same answer.
  absl::StatusOr<RegisterResponse> again = worker_a->Register(absl::Seconds(5));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->rank(), 1);
  EXPECT_EQ(again->generation(), 1);

  absl::StatusOr<JobStatus> status = worker_a->GetJobStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), RUNNING);
  EXPECT_EQ(status->members_size(), 3);

  // Rendezvous: a waiter gets what rank 0 publishes.
  auto waiter = std::async(std::launch::async, [&] { return worker_a->Rendezvous("nccl-id", "", false, absl::Seconds(20)); });
  absl::StatusOr<std::string> published = worker_b->Rendezvous("nccl-id", std::string("\0\1id", 4), true, absl::Seconds(5));
  ASSERT_TRUE(published.ok()) << published.status();
  absl::StatusOr<std::string> got = waiter.get();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(*got, std::string("\0\1id", 4));
}

TEST(CoordinatorTest, RegisterRefusesBadFields) {
  const std::string run = FreshTestDir("bad_fields");
  absl::StatusOr<std::unique_ptr<JobCoordinator>> coordinator =
      JobCoordinator::Create(TestServerOptions(run, {.workers = 2}).coordinator);
  ASSERT_TRUE(coordinator.ok()) << coordinator.status();
  const auto refused = [&](RegisterRequest request, const std::string& field) {
    absl::Status status = (*coordinator)->Register(request, absl::Now() + absl::Seconds(1)).status();
    EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
    EXPECT_NE(status.message().find(field), std::string::npos) << status;
  };
  RegisterRequest good;
  good.set_role(WORKER);
  good.set_member_id("m");
  good.set_requested_rank(-1);
  RegisterRequest request = good;
  request.set_role(ROLE_UNSPECIFIED);
  refused(request, "role");
  request = good;
  request.set_member_id("");
  refused(request, "member_id");
  request = good;
  request.set_requested_rank(2);
  refused(request, "requested_rank");
  request = good;
  request.set_role(PARAMETER_SERVER);
  refused(request, "role");  // the job has no servers
  HeartbeatRequest heartbeat;
  EXPECT_TRUE(absl::IsInvalidArgument((*coordinator)->Heartbeat(heartbeat).status()));
  WaitForCheckpointRequest wait;
  wait.set_step(-1);
  EXPECT_TRUE(absl::IsInvalidArgument((*coordinator)->WaitForCheckpoint(wait, absl::Now()).status()));
}

TEST(CoordinatorTest, ASilentMemberEndsTheGenerationAndANewOneForms) {
  const std::string run = FreshTestDir("failure");
  auto server = StartTestServer(run, {.workers = 2, .heartbeat_seconds = 0.1, .failure_timeout_seconds = 1.0});
  ASSERT_NE(server, nullptr);
  auto survivor = TestClient(server->port());
  auto victim = TestClient(server->port());
  RegisterAll({survivor.get(), victim.get()});
  absl::Notification aborted;
  std::string reason;
  survivor->StartHeartbeats([&](const std::string& r) {
    reason = r;
    aborted.Notify();
  });
  victim.reset();  // never heartbeats: as if killed right after registering
  ASSERT_TRUE(aborted.WaitForNotificationWithTimeout(absl::Seconds(30)));
  EXPECT_NE(reason.find("silent"), std::string::npos) << reason;

  // Reports of the ended generation are refused.
  EXPECT_TRUE(absl::IsFailedPrecondition(survivor->ReportCheckpointPart(5, {}, nullptr)));

  absl::StatusOr<JobStatus> status = survivor->GetJobStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->generation(), 2);
  EXPECT_EQ(status->restarts(), 1);
  EXPECT_EQ(status->state(), FORMING);

  auto replacement_a = TestClient(server->port());
  auto replacement_b = TestClient(server->port());
  std::vector<RegisterResponse> answers = RegisterAll({replacement_a.get(), replacement_b.get()});
  EXPECT_EQ(answers[0].generation(), 2);
  EXPECT_EQ(answers[0].rank() + answers[1].rank(), 1);
  EXPECT_NE(server->MetricsText().find("cloze_coordinator_restarts_total{run=\"test\"} 1"), std::string::npos)
      << server->MetricsText();
}

// A coordinator that goes on unsaved would, once restarted, hand out generation numbers
// again: the first failed save stops it, nobody joins, and the error says why.
TEST(CoordinatorTest, AStateThatCannotBeSavedStopsTheCoordinator) {
  const std::string run = FreshTestDir("unsaved");
  auto server = StartTestServer(run, {.workers = 2});
  ASSERT_NE(server, nullptr);
  EXPECT_TRUE(server->coordinator().persist_error().ok());
  // The next save cannot create its temporary file.
  const std::string temporary = run + "/coordinator/state.pb.txt.tmp";
  ASSERT_TRUE(fs::create_directory(temporary));
  auto worker = TestClient(server->port());
  EXPECT_FALSE(worker->Register(absl::Seconds(2)).ok());
  EXPECT_FALSE(server->coordinator().WaitUntilFinished());  // stopped, not finished
  const absl::Status error = server->coordinator().persist_error();
  EXPECT_EQ(error.message(), absl::StrCat("cannot save the coordinator's state: ", temporary,
                                          ": cannot create: Is a directory"));
}

TEST(CoordinatorTest, ANewProcessForAHeldRankEndsTheGeneration) {
  const std::string run = FreshTestDir("replaced");
  auto server = StartTestServer(run, {.workers = 1, .failure_timeout_seconds = 30});
  ASSERT_NE(server, nullptr);
  auto old_worker = TestClient(server->port(), WORKER, 0);
  ASSERT_TRUE(old_worker->Register(absl::Seconds(10)).ok());
  auto restarted = TestClient(server->port(), WORKER, 0);
  absl::StatusOr<RegisterResponse> answer = restarted->Register(absl::Seconds(10));
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_EQ(answer->generation(), 2);
  absl::Notification aborted;
  old_worker->StartHeartbeats([&](const std::string&) { aborted.Notify(); });
  EXPECT_TRUE(aborted.WaitForNotificationWithTimeout(absl::Seconds(30)));
}

class CheckpointCommitTest : public testing::Test {
 protected:
  // Worker rank 0's part holding every tensor (the all-reduce layout); others write nothing.
  std::vector<CheckpointFile> WriteFullPart(const std::string& run, int64_t step) {
    contents_ = TestContents(layout_, step, 7);
    const CheckpointPart part{.step = step,
                              .optimizer_step = step,
                              .part_name = "",
                              .first_tensor = 0,
                              .end_tensor = static_cast<int>(layout_.tensors.size()),
                              .parameters = contents_.parameters,
                              .exp_avg = contents_.exp_avg,
                              .exp_avg_sq = contents_.exp_avg_sq};
    absl::StatusOr<std::vector<CheckpointFile>> files = WriteCheckpointPart(run, part, layout_);
    EXPECT_TRUE(files.ok()) << files.status();
    return files.ok() ? *files : std::vector<CheckpointFile>();
  }

  const ParameterLayout layout_ = SmallAlbertLayout();
  CheckpointContents contents_;
};

TEST_F(CheckpointCommitTest, CommittedOnlyWithEveryPart) {
  const std::string run = FreshTestDir("commit");
  auto server = StartTestServer(run, {.workers = 2, .failure_timeout_seconds = 30});
  ASSERT_NE(server, nullptr);
  auto a = TestClient(server->port()), b = TestClient(server->port());
  std::vector<RegisterResponse> answers = RegisterAll({a.get(), b.get()});
  CoordinatorClient* rank0 = answers[0].rank() == 0 ? a.get() : b.get();
  CoordinatorClient* rank1 = answers[0].rank() == 0 ? b.get() : a.get();

  std::vector<CheckpointFile> files = WriteFullPart(run, 10);
  // Worker rank 0 must send the manifest; the others must not.
  EXPECT_TRUE(absl::IsInvalidArgument(rank0->ReportCheckpointPart(10, files, nullptr)));
  EXPECT_TRUE(absl::IsInvalidArgument(rank1->ReportCheckpointPart(10, {}, &contents_.manifest)));
  // File names must stay inside the checkpoint directory.
  std::vector<CheckpointFile> escaping = files;
  escaping[0].set_name("../model.safetensors");
  EXPECT_TRUE(absl::IsInvalidArgument(rank0->ReportCheckpointPart(10, escaping, &contents_.manifest)));

  ASSERT_TRUE(rank0->ReportCheckpointPart(10, files, &contents_.manifest).ok());
  EXPECT_TRUE(absl::IsDeadlineExceeded(rank0->WaitForCheckpoint(10, absl::Milliseconds(300)).status()));
  EXPECT_FALSE(fs::exists(run + "/checkpoints/" + CheckpointDirName(10)));  // a part is missing
  ASSERT_TRUE(rank1->ReportCheckpointPart(10, {}, nullptr).ok());

  absl::StatusOr<std::string> path = rank1->WaitForCheckpoint(10, absl::Seconds(10));
  ASSERT_TRUE(path.ok()) << path.status();
  EXPECT_EQ(*path, run + "/checkpoints/" + CheckpointDirName(10));
  EXPECT_TRUE(VerifyCheckpoint(*path).ok());
  absl::StatusOr<CheckpointContents> loaded = LoadCheckpoint(*path, layout_);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->step, 10);
  EXPECT_TRUE(BitwiseEqual(loaded->parameters, contents_.parameters));
  EXPECT_EQ(loaded->manifest.files_size(), static_cast<int>(files.size()));
  EXPECT_EQ(loaded->manifest.data_cursor().position(), contents_.manifest.data_cursor().position());
  // A retried report of a committed step is acknowledged.
  EXPECT_TRUE(rank1->ReportCheckpointPart(10, {}, nullptr).ok());

  // Step 20: rank 1 never reports, then the generation ends: never committed, parts dropped.
  ASSERT_TRUE(rank0->ReportCheckpointPart(20, WriteFullPart(run, 20), &contents_.manifest).ok());
  auto newcomer = TestClient(server->port());
  auto newcomer_registers = std::async(std::launch::async, [&] { return newcomer->Register(absl::Seconds(1)); });
  // Rank 0 asks only after the generation has ended: the wait is for its own generation, so
  // it is aborted at once rather than waiting out its timeout in the new one.
  for (absl::Time give_up = absl::Now() + absl::Seconds(20); absl::Now() < give_up; absl::SleepFor(absl::Milliseconds(10))) {
    absl::StatusOr<JobStatus> now = rank0->GetJobStatus();
    if (now.ok() && now->generation() > rank0->generation()) break;
  }
  absl::Status waited = rank0->WaitForCheckpoint(20, absl::Seconds(20)).status();
  EXPECT_TRUE(absl::IsAborted(waited)) << waited;
  (void)newcomer_registers.get();
  EXPECT_TRUE(absl::IsFailedPrecondition(rank1->ReportCheckpointPart(20, {}, nullptr)));
  EXPECT_FALSE(fs::exists(run + "/checkpoints/" + CheckpointDirName(20)));
  absl::StatusOr<JobStatus> status = rank0->GetJobStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->last_committed_step(), 10);
  EXPECT_NE(server->MetricsText().find("cloze_coordinator_last_checkpoint_step{run=\"test\"} 10"), std::string::npos);
}

TEST_F(CheckpointCommitTest, ARestartedCoordinatorCarriesOn) {
  const std::string run = FreshTestDir("restart");
  auto server = StartTestServer(run, {.workers = 1, .heartbeat_seconds = 0.1, .failure_timeout_seconds = 3});
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  auto worker = TestClient(port);
  ASSERT_TRUE(worker->Register(absl::Seconds(10)).ok());
  std::atomic<bool> aborted{false};
  absl::Notification finished;
  worker->StartHeartbeats([&](const std::string&) { aborted = true; }, [&] { finished.Notify(); });
  ASSERT_TRUE(worker->ReportCheckpointPart(10, WriteFullPart(run, 10), &contents_.manifest).ok());

  server.reset();  // the coordinator goes away; the worker's heartbeats keep retrying
  absl::SleepFor(absl::Milliseconds(300));
  server = StartTestServer(run, {.workers = 1, .heartbeat_seconds = 0.1, .failure_timeout_seconds = 3}, port);
  ASSERT_NE(server, nullptr);
  absl::StatusOr<JobStatus> status = worker->GetJobStatus();
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->generation(), 1);
  EXPECT_EQ(status->state(), RUNNING);
  EXPECT_EQ(status->last_committed_step(), 10);

  ASSERT_TRUE(worker->ReportCheckpointPart(20, WriteFullPart(run, 20), &contents_.manifest).ok());
  ASSERT_TRUE(worker->Finish(20).ok());
  EXPECT_TRUE(finished.WaitForNotificationWithTimeout(absl::Seconds(20)));
  EXPECT_FALSE(aborted);
  EXPECT_TRUE(server->WaitUntilFinished());
  EXPECT_TRUE(VerifyCheckpoint(run + "/checkpoints/" + CheckpointDirName(20)).ok());
  EXPECT_NE(server->MetricsText().find("cloze_coordinator_job_finished{run=\"test\"} 1"), std::string::npos);
}

}  // namespace
}  // namespace cloze
