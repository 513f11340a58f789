// The data-parallel step with parameter servers (server/parameter_server.h): gradients go
// to the servers that own their tensors, which sum them over the workers, apply the
// optimizer and send back the new parameters. The step's small statistics (prediction
// counts, loss sums) are summed over the workers' own GradientSync (MPI), which also keeps
// the workers in lockstep.
#ifndef CLOZE_WORKER_PS_EXCHANGE_H_
#define CLOZE_WORKER_PS_EXCHANGE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/train_config.pb.h"
#include "rpc/job_auth.h"
#include "model/parameter_layout.h"
#include "trainer/step_exchange.h"
#include "worker/gradient_sync.h"

namespace cloze {

// `sync` must outlive the exchange. `server_addresses` by server rank.
absl::StatusOr<std::unique_ptr<StepExchange>> MakeParameterServerExchange(const std::vector<std::string>& server_addresses,
                                                                          const GrpcSecurity& security,
                                                                          const ParameterLayout& layout,
                                                                          GradientSync& sync,
                                                                          const DistributedConfig& config);

}  // namespace cloze

#endif  // CLOZE_WORKER_PS_EXCHANGE_H_
