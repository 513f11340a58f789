// The client's side of joining a job over real gRPC on 127.0.0.1: a stop request (SIGTERM)
// ends a Register that is waiting for its generation or for the coordinator, and the
// metrics addresses members report in their heartbeats reach the run's Prometheus targets
// file, which follows a restarted member.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

#include "absl/time/clock.h"
#include "checkpoint/checkpoint_testing.h"
#include "gtest/gtest.h"
#include "rpc/coordinator_client.h"
#include "server/coordinator_testing.h"
#include "server/scrape_targets.h"

namespace cloze {
namespace {

// Generous bounds for what should take a stop check or a few heartbeats: they catch a
// call that never returns, not a slow machine.
constexpr absl::Duration kPatience = absl::Seconds(60);

std::unique_ptr<CoordinatorClient> StoppableClient(const std::string& address, const std::atomic<bool>* stop) {
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> client = CoordinatorClient::Connect(
      {.address = address, .security = TestSecurity(), .role = WORKER, .stop_requested = stop});
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

// Starts Register (for ten minutes, as a worker does) on another thread, sets the stop
// flag once it is waiting, and returns what Register returned.
absl::Status RegisterThenStop(CoordinatorClient& client, std::atomic<bool>& stop) {
  std::future<absl::StatusOr<RegisterResponse>> registered =
      std::async(std::launch::async, [&client] { return client.Register(absl::Minutes(10)); });
  absl::SleepFor(absl::Milliseconds(300));  // inside a long poll or a retry
  stop = true;
  if (registered.wait_for(absl::ToChronoSeconds(kPatience)) != std::future_status::ready) {
    ADD_FAILURE() << "Register did not return after the stop request";
    std::_Exit(1);  // the future's destructor would wait for the ten minutes
  }
  return registered.get().status();
}

TEST(CoordinatorClientTest, AStopRequestEndsRegisterWhileTheGenerationForms) {
  auto server = StartTestServer(FreshTestDir("stop-forming"), {.workers = 2});
  ASSERT_NE(server, nullptr);
  std::atomic<bool> stop{false};
  auto client = StoppableClient(absl::StrCat("127.0.0.1:", server->port()), &stop);
  const absl::Status status = RegisterThenStop(*client, stop);
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
}

TEST(CoordinatorClientTest, AStopRequestEndsRegisterWhileTheCoordinatorIsUnreachable) {
  // A port nobody listens on: Register retries UNAVAILABLE for its reconnect window (60 s).
  auto server = StartTestServer(FreshTestDir("stop-unreachable"), {.workers = 2});
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  server->Shutdown();
  server.reset();
  std::atomic<bool> stop{false};
  auto client = StoppableClient(absl::StrCat("127.0.0.1:", port), &stop);
  const absl::Status status = RegisterThenStop(*client, stop);
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Polls the targets file until it equals `want`; returns what it last read.
std::string WaitForTargets(const std::string& path, const std::string& want) {
  const absl::Time deadline = absl::Now() + kPatience;
  std::string text = ReadFile(path);
  while (text != want && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    text = ReadFile(path);
  }
  return text;
}

MemberStatus Target(int rank, const std::string& address) {
  MemberStatus member;
  member.set_role(WORKER);
  member.set_rank(rank);
  member.set_metrics_address(address);
  return member;
}

TEST(CoordinatorClientTest, HeartbeatsPutMetricsAddressesIntoTheTargetsFile) {
  const std::string run = FreshTestDir("scrape-targets");
  CoordinatorServerOptions options = TestServerOptions(run, {.workers = 2});
  options.metrics_address = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server = CoordinatorServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const std::string coordinator = absl::StrCat("127.0.0.1:", (*server)->metrics_port());
  const std::string path = run + "/" + kScrapeTargetsFileName;
  // Before anyone joins: the coordinator alone.
  EXPECT_EQ(WaitForTargets(path, ScrapeTargetsJson("test", coordinator, JobStatus())),
            ScrapeTargetsJson("test", coordinator, JobStatus()));

  auto rank0 = TestClient(port, WORKER, 0);
  auto rank1 = TestClient(port, WORKER, 1);
  auto join = [](CoordinatorClient* client) {
    return std::async(std::launch::async, [client] { return client->Register(absl::Seconds(30)); });
  };
  auto joined0 = join(rank0.get()), joined1 = join(rank1.get());
  ASSERT_TRUE(joined0.get().ok());
  ASSERT_TRUE(joined1.get().ok());
  std::atomic<int> aborted{0};
  for (CoordinatorClient* client : {rank0.get(), rank1.get()}) {
    client->SetMetricsAddress(absl::StrCat("127.0.0.1:", 9401 + (client == rank1.get())));
    client->StartHeartbeats([&](const std::string&) { ++aborted; });
  }
  JobStatus both;
  *both.add_members() = Target(0, "127.0.0.1:9401");
  *both.add_members() = Target(1, "127.0.0.1:9402");
  EXPECT_EQ(WaitForTargets(path, ScrapeTargetsJson("test", coordinator, both)),
            ScrapeTargetsJson("test", coordinator, both));

  // Rank 1 restarted (a new process, another port): the generation ends, a new one forms,
  // and the file lists the new processes' addresses.
  rank1.reset();
  auto restarted = TestClient(port, WORKER, 1);
  auto rejoined1 = join(restarted.get());
  const absl::Time deadline = absl::Now() + kPatience;
  while (aborted == 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  ASSERT_EQ(aborted, 1) << "the old rank 0 was not told that its generation ended";
  rank0.reset();
  auto rejoined0_client = TestClient(port, WORKER, 0);
  auto rejoined0 = join(rejoined0_client.get());
  ASSERT_TRUE(rejoined0.get().ok());
  ASSERT_TRUE(rejoined1.get().ok());
  rejoined0_client->SetMetricsAddress("127.0.0.1:9501");
  restarted->SetMetricsAddress("127.0.0.1:9502");
  rejoined0_client->StartHeartbeats([](const std::string&) {});
  restarted->StartHeartbeats([](const std::string&) {});
  JobStatus after;
  *after.add_members() = Target(0, "127.0.0.1:9501");
  *after.add_members() = Target(1, "127.0.0.1:9502");
  EXPECT_EQ(WaitForTargets(path, ScrapeTargetsJson("test", coordinator, after)),
            ScrapeTargetsJson("test", coordinator, after));
}

}  // namespace
}  // namespace cloze
