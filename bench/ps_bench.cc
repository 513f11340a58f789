// Parameter-server push + pull throughput against a bare gRPC stream of the same bytes.
//
//   bazel-bin/bench/ps_bench --config=configs/albert-base.textproto --servers=1,2
//
// One worker and M in-process servers on 127.0.0.1 move the whole model's floats once
// each way per step: Push (client stream of 4 MiB chunks) then Pull (server stream).
// Three figures per M, each the median of --steps timed steps after --warmup; the three
// configurations run side by side and are stepped in rotation, so a change of load on a
// shared machine hits them alike:
//   bare  the same client (rpc/ps_client.h) against a service that only reads the
//         pushed chunks and streams a fixed buffer back: gRPC, serialisation and the
//         client's copies, nothing else;
//   ps    the parameter server, guard skipping the step (accept = false): the protocol's
//         own work (copying chunks into place, the rank-order sum, Σg², bookkeeping);
//   ps+lamb  the parameter server applying clip + LAMB to its range each step, i.e. the
//         real step, whose optimizer arithmetic the all-reduce trainer does as well; the
//         servers apply it while the pull streams (parameter_shard.h), so the step is
//         bounded below by push + the update;
//   LAMB ms  Optimizer::Step over the whole model alone, in this process (median), for
//         that bound.
// Throughput = 2 × model bytes / step time. Prints a markdown table; exits non-zero when a
// call fails.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "proto/parameter_server.grpc.pb.h"
#include "rpc/parameter_chunks.h"
#include "server/parameter_server.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"
#include "kernels/cpu/optimizer.h"
#include "rpc/ps_client.h"

ABSL_FLAG(std::string, config, "configs/albert-base.textproto", "Model config whose parameters are moved.");
ABSL_FLAG(std::string, servers, "1,2", "Server counts to measure, comma-separated.");
ABSL_FLAG(int, warmup, 2, "Untimed steps first.");
ABSL_FLAG(int, steps, 7, "Timed steps (the median is reported).");

namespace cloze::bench {
namespace {

constexpr char kToken[] = "ps-bench-token-0123456789abcdef";

// Reads pushes and discards them; streams a fixed buffer of the server's range on pulls.
class BareService final : public ParameterService::Service {
 public:
  explicit BareService(int64_t floats) : values_(floats, 0.5f) {}
  grpc::Status Push(grpc::ServerContext*, grpc::ServerReader<ParameterChunk>* reader, PushResponse*) override {
    ParameterChunk chunk;
    while (reader->Read(&chunk)) {
    }
    return grpc::Status::OK;
  }
  grpc::Status Pull(grpc::ServerContext*, const PullRequest*, grpc::ServerWriter<ParameterChunk>* writer) override {
    ParameterChunk chunk;
    const int64_t size = static_cast<int64_t>(values_.size());
    for (int64_t offset = 0; offset < size; offset += kMaxChunkFloats) {
      const int64_t count = std::min(kMaxChunkFloats, size - offset);
      chunk.set_offset(offset);
      SetFloatBytes(std::span<const float>(values_).subspan(offset, count), chunk.mutable_values());
      if (!writer->Write(chunk)) break;
    }
    return grpc::Status::OK;
  }

 private:
  const std::vector<float> values_;
};

struct Running {
  std::vector<std::unique_ptr<BareService>> bare_services;
  std::vector<std::unique_ptr<grpc::Server>> bare_servers;
  std::vector<std::unique_ptr<ParameterServer>> servers;
  std::vector<std::string> addresses;
};

absl::StatusOr<Running> StartBare(const ParameterLayout& layout, int m) {
  Running running;
  const auto partition = PartitionTensors(layout, m);
  for (int s = 0; s < m; ++s) {
    running.bare_services.push_back(std::make_unique<BareService>(FloatRangeOf(layout, partition[s]).size));
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(running.bare_services.back().get());
    builder.SetMaxReceiveMessageSize(kMaxParameterMessageBytes);
    running.bare_servers.push_back(builder.BuildAndStart());
    if (running.bare_servers.back() == nullptr) return absl::UnavailableError("cannot start a bare server");
    running.addresses.push_back(absl::StrCat("127.0.0.1:", port));
  }
  return running;
}

OptimizerConfig LambConfig() {
  OptimizerConfig optimizer;
  optimizer.set_kind(OptimizerConfig::LAMB);
  optimizer.set_learning_rate(1e-4f);
  optimizer.set_beta1(0.9f);
  optimizer.set_beta2(0.999f);
  optimizer.set_epsilon(1e-6f);
  optimizer.set_weight_decay(0.01f);
  optimizer.set_max_grad_norm(1.0f);
  return optimizer;
}

absl::StatusOr<Running> StartServers(const ParameterLayout& layout, int m) {
  Running running;
  for (int s = 0; s < m; ++s) {
    ParameterServerOptions options;
    options.shard.layout = layout;
    options.shard.server_rank = s;
    options.shard.num_servers = m;
    options.shard.workers = 1;
    options.shard.optimizer = LambConfig();
    options.security.job_token = kToken;
    absl::StatusOr<std::unique_ptr<ParameterServer>> server = ParameterServer::Start(std::move(options));
    if (!server.ok()) return server.status();
    running.addresses.push_back(absl::StrCat("127.0.0.1:", (*server)->port()));
    running.servers.push_back(std::move(*server));
  }
  return running;
}

// One configuration being measured: its servers and a connected worker.
struct Subject {
  Running running;
  std::unique_ptr<ParameterServerClient> client;
  bool accept = true;  // whether the servers apply LAMB
  std::vector<float> parameters, gradients;
  std::vector<double> seconds;
};

absl::Status Connect(Subject& subject, const ParameterLayout& layout, bool initialize, bool accept) {
  GrpcSecurity security;
  security.job_token = kToken;
  absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
      ParameterServerClient::Connect(subject.running.addresses, security, layout, 0, 1);
  if (!client.ok()) return client.status();
  subject.client = std::move(*client);
  subject.accept = accept;
  subject.parameters.assign(layout.total_size, 0.01f);
  subject.gradients.assign(layout.total_size, 1e-4f);
  if (initialize) return subject.client->InitializeParameters(subject.parameters);
  return absl::OkStatus();
}

// Seconds of push + pull step `step`.
absl::StatusOr<double> TimeStep(Subject& subject, int step) {
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<ParameterServerClient::PushResult> pushed = subject.client->Push(step, subject.gradients, {});
  if (!pushed.ok()) return pushed.status();
  if (absl::Status s = subject.client->ApplyAndPull(step, 1e-4f, 1.0f, subject.accept, subject.parameters); !s.ok()) {
    return s;
  }
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

int Main() {
  absl::StatusOr<ModelConfig> config = LoadModelConfig(absl::GetFlag(FLAGS_config));
  if (!config.ok()) {
    std::fprintf(stderr, "ps_bench: %s\n", config.status().ToString().c_str());
    return 1;
  }
  const ParameterLayout layout = BuildParameterLayout(*config);
  const double bytes = 2.0 * layout.total_size * sizeof(float);
  const int warmup = absl::GetFlag(FLAGS_warmup), steps = absl::GetFlag(FLAGS_steps);
  std::printf("model %s: %lld floats; a step moves %.1f MB (push + pull), chunks of %lld floats; "
              "median of %d steps after %d warmup\n\n",
              absl::GetFlag(FLAGS_config).c_str(), static_cast<long long>(layout.total_size), bytes / 1e6,
              static_cast<long long>(kMaxChunkFloats), steps, warmup);
  std::printf("| servers | bare gRPC MB/s | ps (skip) MB/s | ps / bare | ps+LAMB MB/s | ps+LAMB / bare | LAMB ms |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  const std::vector<std::string> items = absl::StrSplit(absl::GetFlag(FLAGS_servers), ',');
  for (const std::string& item : items) {
    int m = 0;
    if (!absl::SimpleAtoi(item, &m) || m < 1) {
      std::fprintf(stderr, "ps_bench: --servers: \"%s\" is not a server count\n", item.c_str());
      return 2;
    }
    // bare, ps (skip), ps+LAMB: all running at once, measured in rotation one step at a
    // time (with LAMB alone as a fourth), so that every figure sees the same load.
    std::vector<Subject> subjects(3);
    absl::StatusOr<Running> bare = StartBare(layout, m);
    absl::StatusOr<Running> skip = StartServers(layout, m);
    absl::StatusOr<Running> lamb = StartServers(layout, m);
    for (const auto* running : {&bare, &skip, &lamb}) {
      if (!running->ok()) return std::fprintf(stderr, "ps_bench: %s\n", running->status().ToString().c_str()), 1;
    }
    subjects[0].running = std::move(*bare);
    subjects[1].running = std::move(*skip);
    subjects[2].running = std::move(*lamb);
    for (int k = 0; k < 3; ++k) {
      if (absl::Status s = Connect(subjects[k], layout, /*initialize=*/k > 0, /*accept=*/k != 1); !s.ok()) {
        return std::fprintf(stderr, "ps_bench: %s\n", s.ToString().c_str()), 1;
      }
    }
    Optimizer optimizer(LambConfig(), layout);
    std::vector<float> alone_parameters(layout.total_size, 0.01f), alone_gradients(layout.total_size, 1e-4f);
    std::vector<double> lamb_alone;
    for (int i = 0; i < warmup + steps; ++i) {
      for (int turn = 0; turn < 4; ++turn) {
        const int k = (i + turn) % 4;
        if (k == 3) {
          const auto start = std::chrono::steady_clock::now();
          optimizer.Step(alone_parameters, alone_gradients, 1e-4f);
          if (i >= warmup) lamb_alone.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
          continue;
        }
        absl::StatusOr<double> seconds = TimeStep(subjects[k], i);
        if (!seconds.ok()) return std::fprintf(stderr, "ps_bench: %s\n", seconds.status().ToString().c_str()), 1;
        if (i >= warmup) subjects[k].seconds.push_back(*seconds);
      }
    }
    for (auto& server : subjects[0].running.bare_servers) server->Shutdown();
    const double bare_rate = bytes / Median(subjects[0].seconds) / 1e6;
    const double ps_rate = bytes / Median(subjects[1].seconds) / 1e6;
    const double lamb_rate = bytes / Median(subjects[2].seconds) / 1e6;
    std::printf("| %d | %.0f | %.0f | %.1f%% | %.0f | %.1f%% | %.1f |\n", m, bare_rate, ps_rate,
                100 * ps_rate / bare_rate, lamb_rate, 100 * lamb_rate / bare_rate, 1e3 * Median(lamb_alone));
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace cloze::bench

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return cloze::bench::Main();
}
