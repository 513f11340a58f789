// The coordinator's Prometheus endpoint. Every metric carries the label run="<run name>".
//   cloze_coordinator_workers_alive, cloze_coordinator_servers_alive   members of the
//       current generation heard from within the failure timeout
//   cloze_coordinator_generation, cloze_coordinator_restarts_total (generations ended by a failure)
//   cloze_coordinator_last_checkpoint_step
//   cloze_coordinator_last_checkpoint_timestamp_seconds  Unix time of the last commit (the
//       endpoint's start time before the first, so that a job that never commits still ages)
//   cloze_coordinator_job_finished  1 once the job is FINISHED
#ifndef CLOZE_SERVER_COORDINATOR_METRICS_H_
#define CLOZE_SERVER_COORDINATOR_METRICS_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "proto/coordinator.pb.h"
#include "metrics/metrics_endpoint.h"

namespace prometheus {
class Counter;
class Gauge;
class Registry;
}  // namespace prometheus

namespace cloze {

// Thread safety: Update and ExpositionText may be called concurrently (prometheus-cpp's
// gauges are atomic; Update is called from one thread, the watchdog's).
class CoordinatorMetrics {
 public:
  // listen_address: "HOST:PORT" (port 0: any free one) or empty for no endpoint.
  // Unavailable when it cannot be bound; InvalidArgument for an empty run label.
  static absl::StatusOr<std::unique_ptr<CoordinatorMetrics>> Start(const std::string& listen_address,
                                                                   const std::string& run);
  ~CoordinatorMetrics();

  int port() const { return port_; }
  void Update(const JobStatus& status);
  std::string ExpositionText() const;

 private:
  CoordinatorMetrics(const std::string& run);

  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
  int port_ = 0;
  double start_seconds_ = 0;
  prometheus::Gauge *workers_alive_, *servers_alive_, *generation_, *last_checkpoint_step_,
      *last_checkpoint_timestamp_, *job_finished_;
  prometheus::Counter* restarts_;
};

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_METRICS_H_
