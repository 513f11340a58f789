// The coordinator as a running gRPC server: the JobCoordinator, its service (job token, TLS,
// 1 MiB message limit, the standard health service), the failure-detection thread and the
// Prometheus endpoint.
#ifndef CLOZE_SERVER_COORDINATOR_SERVER_H_
#define CLOZE_SERVER_COORDINATOR_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "grpcpp/grpcpp.h"
#include "server/coordinator.h"
#include "server/coordinator_metrics.h"
#include "server/scrape_targets.h"
#include "rpc/job_auth.h"

namespace cloze {

// The largest message the coordinator accepts; its messages are small (a TrainConfig, a
// few file entries), so anything bigger is refused before it is parsed.
inline constexpr int kCoordinatorMaxMessageBytes = 1 << 20;

struct CoordinatorServerOptions {
  CoordinatorOptions coordinator;
  GrpcSecurity security;                  // job_token must be set
  std::string listen_address = "127.0.0.1:0";  // HOST:PORT; port 0: any free one (see port())
  std::string metrics_address;            // HOST:PORT for /metrics; empty: none
  std::string run_name = "default";       // the metrics' run label
};

class CoordinatorServer {
 public:
  // Creates the JobCoordinator (loading the run's state), binds and starts serving. Keeps
  // <run_dir>/prometheus_targets.json (server/scrape_targets.h) current from then on.
  // InvalidArgument without a job token; Unavailable when an address cannot be bound.
  static absl::StatusOr<std::unique_ptr<CoordinatorServer>> Start(CoordinatorServerOptions options);
  ~CoordinatorServer();  // Shutdown()

  int port() const { return port_; }
  int metrics_port() const { return metrics_->port(); }
  JobCoordinator& coordinator() { return *coordinator_; }
  // Refreshes the figures from the coordinator first.
  std::string MetricsText();

  // Blocks until the job is FINISHED (true) or Shutdown() is called (false).
  bool WaitUntilFinished() { return coordinator_->WaitUntilFinished(); }
  // Ends long polls (Unavailable), stops serving, joins the watchdog. The state on disk is
  // current, so a new server on the same run_dir carries on. Idempotent; thread-safe.
  void Shutdown();

 private:
  CoordinatorServer() = default;
  void WatchdogLoop();
  // Rewrites the Prometheus targets file when the members changed; a failure is reported on
  // stderr (once per distinct error) and does not stop the job: only monitoring suffers.
  void UpdateScrapeTargets(const JobStatus& status);

  GrpcSecurity security_;
  std::unique_ptr<JobCoordinator> coordinator_;
  std::unique_ptr<grpc::Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<CoordinatorMetrics> metrics_;
  std::unique_ptr<ScrapeTargetsFile> scrape_targets_;  // used by the watchdog thread only
  std::string scrape_targets_error_;                   // the last one reported, not repeated
  int port_ = 0;
  absl::Notification stop_;
  absl::Mutex shutdown_mu_;
  std::thread watchdog_;
};

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_SERVER_H_
