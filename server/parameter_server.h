// A parameter server: one ParameterShard (server/parameter_shard.h has the step protocol
// of both consistency modes) served over gRPC as cloze.ParameterService
// (proto/parameter_server.proto), with the job token checked on every call, TLS when the
// security has a certificate, the standard health service, and Prometheus metrics.
//
// Used in process by tests and the benchmark, and by `cloze ps` (cli/ps_command.cc).
//
// The loss guard's rollback is a step's update (StepUpdate.rollback): synchronous servers
// reload their range from the committed checkpoint it names, once per step
// (parameter_shard.h); a checkpoint they cannot read is refused with the load's status
// (NOT_FOUND, DATA_LOSS, ...) naming the server and the path, and the state is unchanged.
//
// What the service refuses, always answering and always serving on:
//   UNAUTHENTICATED   no or wrong job token;
//   RESOURCE_EXHAUSTED a message above kMaxParameterMessageBytes (gRPC, before the handler);
//   INVALID_ARGUMENT  naming the field: an empty stream, a range that is not this
//                     server's, a worker rank outside [0, W), a step out of turn, a chunk
//                     whose offset is not where the previous one ended, a payload that is
//                     not whole floats or runs past the range, a stream that ends short,
//                     too many statistics. Non-finite values are accepted: the guard
//                     upstream decides about them.
//   FAILED_PRECONDITION valid but out of turn (see parameter_shard.h).
// A malformed message (bytes that do not parse) is refused by gRPC itself.
#ifndef CLOZE_SERVER_PARAMETER_SERVER_H_
#define CLOZE_SERVER_PARAMETER_SERVER_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "proto/checkpoint.pb.h"
#include "rpc/job_auth.h"
#include "server/parameter_server_metrics.h"
#include "server/parameter_shard.h"
#include "checkpoint/checkpoint.h"

namespace cloze {

struct ParameterServerOptions {
  ShardConfig shard;
  // "HOST:PORT" to listen on; port 0 picks a free one (see port()).
  std::string listen_address = "127.0.0.1:0";
  GrpcSecurity security;  // job_token must not be empty
  // Prometheus endpoint ("HOST:PORT", port 0 picks one); empty: none.
  std::string metrics_address;
  std::string run_name = "default";
};

// Thread safety: every method may be called from any thread.
class ParameterServer {
 public:
  // InvalidArgument for a bad shard config or an empty token; Unavailable when the
  // address (or the metrics address) cannot be bound.
  static absl::StatusOr<std::unique_ptr<ParameterServer>> Start(ParameterServerOptions options);
  ~ParameterServer();  // Shutdown()

  int port() const { return port_; }
  int metrics_port() const { return metrics_->port(); }
  ParameterShard& shard() { return *shard_; }
  const ParameterServerMetrics& metrics() const { return *metrics_; }

  // A fresh run, in process (workers use the Init stream instead); see ParameterShard.
  absl::Status InitializeFrom(std::span<const float> full_parameters) { return shard_->InitializeFrom(full_parameters); }
  // Start-up from a committed checkpoint: its contents, or its directory
  // (checkpoint/checkpoint.h LoadCheckpoint: DataLoss when damaged, FailedPrecondition when
  // it holds another model).
  absl::Status RestoreFrom(const CheckpointContents& contents) { return shard_->RestoreFrom(contents); }
  absl::Status RestoreFromCheckpoint(const std::string& checkpoint_dir) {
    return shard_->RestoreFromCheckpoint(checkpoint_dir);
  }

  // This server's part of the checkpoint of `step` into options.shard.run_dir (or
  // `run_dir` when given); see ParameterShard::WriteCheckpointPart.
  absl::StatusOr<std::vector<CheckpointFile>> WriteCheckpointPart(int64_t step, const std::string& run_dir = "");

  // Wakes waiting calls (UNAVAILABLE), stops serving; idempotent.
  void Shutdown();
  // Blocks until a Shutdown (from another thread) has finished.
  void Wait();

 private:
  class Service;
  ParameterServer() = default;

  ParameterServerOptions options_;
  std::unique_ptr<ParameterShard> shard_;
  std::unique_ptr<ParameterServerMetrics> metrics_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::once_flag shutdown_once_;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace cloze

#endif  // CLOZE_SERVER_PARAMETER_SERVER_H_
