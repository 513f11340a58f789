#include "worker/ps_exchange.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "rpc/ps_client.h"

namespace cloze {
namespace {

class ParameterServerExchange final : public StepExchange {
 public:
  ParameterServerExchange(std::unique_ptr<ParameterServerClient> client, GradientSync& sync, bool synchronous)
      : client_(std::move(client)), sync_(sync), synchronous_(synchronous) {}

  int rank() const override { return sync_.rank(); }
  int world_size() const override { return sync_.world_size(); }

  // A fresh run's parameters (the same on every worker: one seed) go to the servers from
  // rank 0; after a resume the servers restored their ranges from the checkpoint the
  // workers loaded too.
  absl::Status Begin(int64_t step, std::span<const float> parameters) override {
    if (step == 0 && rank() == 0) {
      if (absl::Status s = client_->InitializeParameters(parameters); !s.ok()) return s;
    }
    return absl::OkStatus();
  }

  absl::Status SumStatistics(std::span<double> values) override { return sync_.AllReduceSum(values); }

  absl::StatusOr<double> ReduceGradients(int64_t step, std::span<float> gradients) override {
    absl::StatusOr<ParameterServerClient::PushResult> pushed = client_->Push(step, gradients, {});
    if (!pushed.ok()) return pushed.status();
    return std::sqrt(pushed->gradient_norm_squared);
  }

  bool applies_remotely() const override { return true; }
  absl::Status ApplyRemotely(int64_t step, float learning_rate, float clip_scale, bool accept,
                             std::span<float> parameters, int64_t rollback_to) override {
    if (rollback_to >= 0 && !synchronous_) {
      return absl::FailedPreconditionError("bounded-staleness parameter servers do not roll back");
    }
    return client_->ApplyAndPull(step, learning_rate, clip_scale, accept, parameters, rollback_to);
  }
  // Synchronous: every worker decides the rollback at the same step (the same global
  // statistics and norm), so the servers can go back together; see parameter_shard.h.
  bool rolls_back_remotely() const override { return synchronous_; }

 private:
  std::unique_ptr<ParameterServerClient> client_;
  GradientSync& sync_;
  const bool synchronous_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<StepExchange>> MakeParameterServerExchange(const std::vector<std::string>& server_addresses,
                                                                          const GrpcSecurity& security,
                                                                          const ParameterLayout& layout,
                                                                          GradientSync& sync,
                                                                          const DistributedConfig& config) {
  absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
      ParameterServerClient::Connect(server_addresses, security, layout, sync.rank(), sync.world_size());
  if (!client.ok()) return client.status();
  return std::make_unique<ParameterServerExchange>(*std::move(client), sync,
                                                   config.consistency() == DistributedConfig::SYNCHRONOUS);
}

}  // namespace cloze
