// A parameter server's Prometheus figures, served by prometheus-cpp's endpoint.
//
// Metrics (label run, and server = the server's rank):
//   cloze_ps_bytes_pushed_total    gradient bytes received (Push)
//   cloze_ps_bytes_pulled_total    parameter bytes sent (Pull)
//   cloze_ps_bytes_initialized_total  initial-parameter bytes received (Init)
//   cloze_ps_steps_applied_total   optimizer updates applied
//   cloze_ps_steps_skipped_total   updates the guard skipped (rollbacks included)
//   cloze_ps_rollbacks_total       rollbacks to a committed checkpoint (synchronous mode)
//   cloze_ps_step                  completed steps (bounded staleness: the slowest worker's)
#ifndef CLOZE_SERVER_PARAMETER_SERVER_METRICS_H_
#define CLOZE_SERVER_PARAMETER_SERVER_METRICS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "metrics/metrics_endpoint.h"
#include "server/parameter_shard.h"

namespace prometheus {
}  // namespace prometheus

namespace cloze {

// Thread safety: Add* from any thread (relaxed atomics); scrapes read the shard's
// counters and the atomics, never a lock the serving path holds long.
class ParameterServerMetrics {
 public:
  // `shard` must outlive this. listen_address as TrainingMetricsOptions' ("HOST:PORT",
  // port 0 picks one); empty: no endpoint (ExpositionText still works). Unavailable when
  // it cannot be bound.
  static absl::StatusOr<std::unique_ptr<ParameterServerMetrics>> Start(const ParameterShard* shard,
                                                                       const std::string& listen_address,
                                                                       const std::string& run);
  ~ParameterServerMetrics();

  int port() const { return port_; }
  std::string ExpositionText() const;

  void AddPushedBytes(int64_t bytes) { pushed_bytes_.fetch_add(bytes, std::memory_order_relaxed); }
  void AddPulledBytes(int64_t bytes) { pulled_bytes_.fetch_add(bytes, std::memory_order_relaxed); }
  void AddInitializedBytes(int64_t bytes) { initialized_bytes_.fetch_add(bytes, std::memory_order_relaxed); }

 private:
  class Collector;
  ParameterServerMetrics() = default;

  std::atomic<int64_t> pushed_bytes_{0}, pulled_bytes_{0}, initialized_bytes_{0};
  std::shared_ptr<Collector> collector_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
  int port_ = 0;
};

}  // namespace cloze

#endif  // CLOZE_SERVER_PARAMETER_SERVER_METRICS_H_
