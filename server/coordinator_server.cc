#include "server/coordinator_server.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rpc/host_port.h"
#include "server/coordinator_service.h"

namespace cloze {

absl::StatusOr<std::unique_ptr<CoordinatorServer>> CoordinatorServer::Start(CoordinatorServerOptions options) {
  if (options.security.job_token.empty()) return absl::InvalidArgumentError("the coordinator needs a job token");
  std::unique_ptr<CoordinatorServer> server(new CoordinatorServer());
  server->security_ = std::move(options.security);
  const std::string run_dir = options.coordinator.run_dir;  // options.coordinator is moved below
  absl::StatusOr<std::unique_ptr<JobCoordinator>> coordinator = JobCoordinator::Create(std::move(options.coordinator));
  if (!coordinator.ok()) return coordinator.status();
  server->coordinator_ = std::move(*coordinator);
  absl::StatusOr<std::unique_ptr<CoordinatorMetrics>> metrics =
      CoordinatorMetrics::Start(options.metrics_address, options.run_name);
  if (!metrics.ok()) return metrics.status();
  server->metrics_ = std::move(*metrics);
  server->metrics_->Update(server->coordinator_->GetJobStatus());
  server->scrape_targets_ = std::make_unique<ScrapeTargetsFile>(
      run_dir, options.run_name,
      options.metrics_address.empty() ? "" : ReachableAddress(options.metrics_address, server->metrics_->port()));
  server->UpdateScrapeTargets(server->coordinator_->GetJobStatus());

  server->service_ = std::make_unique<CoordinatorService>(server->coordinator_.get(), &server->security_);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, MakeServerCredentials(server->security_), &server->port_);
  builder.SetMaxReceiveMessageSize(kCoordinatorMaxMessageBytes);
  builder.RegisterService(server->service_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("coordinator: cannot listen on ", options.listen_address));
  }
  server->watchdog_ = std::thread([s = server.get()] { s->WatchdogLoop(); });
  return server;
}

CoordinatorServer::~CoordinatorServer() { Shutdown(); }

void CoordinatorServer::WatchdogLoop() {
  // A few checks per heartbeat interval: a silent member is noticed soon after its timeout.
  const absl::Duration period = std::clamp(coordinator_->heartbeat_interval() / 4, absl::Milliseconds(10),
                                           absl::Milliseconds(500));
  while (!stop_.WaitForNotificationWithTimeout(period)) {
    coordinator_->CheckFailures();
    const JobStatus status = coordinator_->GetJobStatus();
    metrics_->Update(status);
    UpdateScrapeTargets(status);
  }
}

void CoordinatorServer::UpdateScrapeTargets(const JobStatus& status) {
  const absl::Status written = scrape_targets_->Update(status);
  if (written.ok() || written.ToString() == scrape_targets_error_) return;
  scrape_targets_error_ = written.ToString();
  std::fprintf(stderr, "[coordinator] the Prometheus targets file: %s\n", std::string(written.message()).c_str());
}

std::string CoordinatorServer::MetricsText() {
  metrics_->Update(coordinator_->GetJobStatus());
  return metrics_->ExpositionText();
}

void CoordinatorServer::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (server_ == nullptr) return;
  coordinator_->Stop();
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  server_.reset();
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (watchdog_.joinable()) watchdog_.join();
}

}  // namespace cloze
