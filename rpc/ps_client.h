// A worker's side of the parameter servers (server/parameter_server.h): the M servers
// each own a range of whole tensors (rpc/tensor_partition.h, computed here the same
// way); every call talks to all of them concurrently, one thread per server, and returns
// when all have answered.
//
// Synchronous step t, on every worker (server/parameter_shard.h has the details):
//   PushResult r = client->Push(t, gradients, statistics);   // waits for every worker
//   double norm = std::sqrt(r.gradient_norm_squared);        // the global gradient's
//   float clip = ClipCoefficient(norm, config.optimizer().max_grad_norm());
//   bool accept = guard decision from r.statistics and norm;  // same on every worker
//   client->ApplyAndPull(t, learning_rate, clip, accept, parameters);
// Start of a run: worker 0 calls InitializeParameters (fresh run only: after a resume the
// servers restored their ranges from the checkpoint), then every worker FetchParameters.
// The guard's rollback (synchronous servers): every worker calls
//   client->ApplyAndPull(t, learning_rate, clip, /*accept=*/false, parameters, checkpoint_step);
// the servers go back to the committed checkpoint of checkpoint_step once (whoever asks
// first) and every worker pulls the restored parameters (parameter_shard.h).
//
// Errors name the server (rank and address): the server's status code as it is
// (UNAVAILABLE when a server is gone, INVALID_ARGUMENT / FAILED_PRECONDITION for protocol
// errors, see parameter_server.h); InvalidArgument for spans of the wrong size.
//
// Thread safety: one call at a time per client (a worker's steps are sequential).
#ifndef CLOZE_RPC_PS_CLIENT_H_
#define CLOZE_RPC_PS_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "proto/parameter_server.grpc.pb.h"
#include "rpc/job_auth.h"
#include "rpc/tensor_partition.h"
#include "model/parameter_layout.h"

namespace cloze {

// The factor kernels/cpu/clip.h's ClipGradientsByGlobalNorm scales gradients by, from the
// global norm: max_grad_norm / norm (as a float) when the norm is finite and above
// max_grad_norm > 0, else exactly 1 (not clipped).
float ClipCoefficient(double global_norm, double max_grad_norm);

class ParameterServerClient {
 public:
  // `addresses[s]` is server s's "HOST:PORT". Waits up to connect_timeout for every
  // server to accept a connection (Unavailable naming the first that did not).
  // InvalidArgument unless 0 <= worker_rank < world_size and the server count suits the
  // layout (ValidateServerCount).
  static absl::StatusOr<std::unique_ptr<ParameterServerClient>> Connect(
      const std::vector<std::string>& addresses, const GrpcSecurity& security, const ParameterLayout& layout,
      int worker_rank, int world_size, absl::Duration connect_timeout = absl::Seconds(60));

  int num_servers() const { return static_cast<int>(servers_.size()); }

  // Worker rank 0, fresh run: the whole model's initial parameters (layout.total_size).
  absl::Status InitializeParameters(std::span<const float> parameters);

  // Waits until every server holds parameters (initialised or restored) and copies them
  // into `parameters`; `completed_steps`, when given, receives server 0's step count.
  absl::Status FetchParameters(std::span<float> parameters, int64_t* completed_steps = nullptr);

  struct PushResult {
    double gradient_norm_squared = 0;  // summed over the servers, in server order
    std::vector<double> statistics;    // server 0's answer
  };
  // This worker's gradient of step t (layout.total_size floats) and its loss statistics.
  absl::StatusOr<PushResult> Push(int64_t step, std::span<const float> gradients, std::span<const double> statistics);

  // Applies step t on every server (or skips it when !accept; or, with rollback_to >= 0 and
  // !accept, skips it and rolls the servers back to the committed checkpoint of that step)
  // and copies the resulting parameters into `parameters` (layout.total_size floats).
  absl::Status ApplyAndPull(int64_t step, float learning_rate, float clip_coefficient, bool accept,
                            std::span<float> parameters, int64_t rollback_to = -1);

 private:
  struct Server {
    std::string address;
    FloatRange range;
    std::unique_ptr<ParameterService::Stub> stub;
  };
  ParameterServerClient() = default;

  // Runs call(s) for every server concurrently; the first error in server order.
  absl::Status ForEachServer(const std::function<absl::Status(int server)>& call);
  absl::Status PullServer(int server, const PullRequest& request, std::span<float> parameters,
                          int64_t* completed_steps);
  absl::Status CheckSize(size_t size, const char* what) const;
  void NewContext(grpc::ClientContext& context) const;

  GrpcSecurity security_;
  int64_t total_size_ = 0;
  int worker_rank_ = 0;
  std::vector<Server> servers_;
};

}  // namespace cloze

#endif  // CLOZE_RPC_PS_CLIENT_H_
