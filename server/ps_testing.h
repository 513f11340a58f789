// What the parameter-server tests share: a small model, random buffers, a job token and
// in-process servers on 127.0.0.1.
#ifndef CLOZE_SERVER_PS_TESTING_H_
#define CLOZE_SERVER_PS_TESTING_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "proto/train_config.pb.h"
#include "rpc/job_auth.h"
#include "server/parameter_server.h"
#include "model/parameter_layout.h"

namespace cloze {

// A small ALBERT (about 190k floats) whose embedding and feed-forward tensors span
// several of the optimizer's 32768-float blocks.
ParameterLayout PsTestLayout();

// n normal floats (mean 0, stddev `scale`) from `seed`.
std::vector<float> RandomFloats(uint64_t seed, int64_t n, float scale);

GrpcSecurity TestSecurity();  // a fixed token, no TLS

OptimizerConfig TestOptimizer(OptimizerConfig::Kind kind, float max_grad_norm);

// M servers of `base` (server_rank and num_servers are set here) on 127.0.0.1:0.
struct TestServers {
  std::vector<std::unique_ptr<ParameterServer>> servers;
  std::vector<std::string> addresses;
};
TestServers StartTestServers(const ShardConfig& base, int num_servers);

}  // namespace cloze

#endif  // CLOZE_SERVER_PS_TESTING_H_
