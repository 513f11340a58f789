// Test helpers: a coordinator on 127.0.0.1 and clients of it.
#ifndef CLOZE_SERVER_COORDINATOR_TESTING_H_
#define CLOZE_SERVER_COORDINATOR_TESTING_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/coordinator_server.h"
#include "rpc/coordinator_client.h"

namespace cloze {

inline constexpr char kTestJobToken[] = "test-token-0123456789abcdef";

inline GrpcSecurity TestSecurity() {
  GrpcSecurity security;
  security.job_token = kTestJobToken;
  return security;
}

struct TestJob {
  int workers = 2, servers = 0;
  double heartbeat_seconds = 0.1, failure_timeout_seconds = 1.0;
  int keep_last = 0;
};

inline CoordinatorServerOptions TestServerOptions(const std::string& run_dir, const TestJob& job, int port = 0) {
  CoordinatorServerOptions options;
  options.coordinator.run_dir = run_dir;
  DistributedConfig& distributed = *options.coordinator.config.mutable_distributed();
  distributed.set_workers(job.workers);
  distributed.set_parameter_servers(job.servers);
  distributed.set_heartbeat_interval_seconds(job.heartbeat_seconds);
  distributed.set_failure_timeout_seconds(job.failure_timeout_seconds);
  options.coordinator.config.mutable_checkpoint()->set_keep_last(job.keep_last);
  options.coordinator.max_long_poll = absl::Seconds(5);
  options.security = TestSecurity();
  options.listen_address = absl::StrCat("127.0.0.1:", port);
  options.run_name = "test";
  return options;
}

inline std::unique_ptr<CoordinatorServer> StartTestServer(const std::string& run_dir, const TestJob& job,
                                                          int port = 0) {
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server = CoordinatorServer::Start(TestServerOptions(run_dir, job, port));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

inline std::unique_ptr<CoordinatorClient> TestClient(int port, Role role = WORKER, int requested_rank = -1,
                                                     const std::string& advertised = "") {
  CoordinatorClientOptions options;
  options.address = absl::StrCat("127.0.0.1:", port);
  options.security = TestSecurity();
  options.role = role;
  options.requested_rank = requested_rank;
  options.advertised_address = advertised;
  options.reconnect_window = absl::Seconds(20);
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> client = CoordinatorClient::Connect(options);
  EXPECT_TRUE(client.ok()) << client.status();
  return client.ok() ? std::move(*client) : nullptr;
}

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_TESTING_H_
