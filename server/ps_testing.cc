#include "server/ps_testing.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "checkpoint/checkpoint_testing.h"

namespace cloze {

ParameterLayout PsTestLayout() { return SmallAlbertLayout(/*vocab_size=*/8000, /*intermediate_size=*/4096); }

std::vector<float> RandomFloats(uint64_t seed, int64_t n, float scale) {
  std::mt19937_64 generator(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> values(n);
  for (float& x : values) x = normal(generator);
  return values;
}

GrpcSecurity TestSecurity() {
  GrpcSecurity security;
  security.job_token = "ps-test-token-0123456789abcdef";
  return security;
}

OptimizerConfig TestOptimizer(OptimizerConfig::Kind kind, float max_grad_norm) {
  OptimizerConfig config;
  config.set_kind(kind);
  config.set_learning_rate(0.001f);
  config.set_beta1(0.9f);
  config.set_beta2(0.999f);
  config.set_epsilon(1e-6f);
  config.set_weight_decay(0.01f);
  config.set_max_grad_norm(max_grad_norm);
  return config;
}

TestServers StartTestServers(const ShardConfig& base, int num_servers) {
  TestServers result;
  for (int s = 0; s < num_servers; ++s) {
    ParameterServerOptions options;
    options.shard = base;
    options.shard.server_rank = s;
    options.shard.num_servers = num_servers;
    options.security = TestSecurity();
    absl::StatusOr<std::unique_ptr<ParameterServer>> server = ParameterServer::Start(std::move(options));
    if (!server.ok()) {
      ADD_FAILURE() << server.status();
      return {};
    }
    result.addresses.push_back(absl::StrCat("127.0.0.1:", (*server)->port()));
    result.servers.push_back(std::move(*server));
  }
  return result;
}

}  // namespace cloze
