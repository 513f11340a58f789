#include "server/coordinator_metrics.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace cloze {
namespace {

prometheus::Gauge* NewGauge(prometheus::Registry& registry, const std::string& run, const std::string& name,
                            const std::string& help) {
  return &prometheus::BuildGauge().Name(name).Help(help).Labels({{"run", run}}).Register(registry).Add({});
}

}  // namespace

absl::StatusOr<std::unique_ptr<CoordinatorMetrics>> CoordinatorMetrics::Start(const std::string& listen_address,
                                                                              const std::string& run) {
  if (run.empty()) return absl::InvalidArgumentError("CoordinatorMetrics: the run label must not be empty");
  std::unique_ptr<CoordinatorMetrics> metrics(new CoordinatorMetrics(run));
  if (listen_address.empty()) return metrics;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("metrics", listen_address);
  if (!endpoint.ok()) return endpoint.status();
  metrics->endpoint_ = *std::move(endpoint);
  metrics->endpoint_->RegisterCollectable(metrics->registry_);
  metrics->port_ = metrics->endpoint_->port();
  return metrics;
}

CoordinatorMetrics::CoordinatorMetrics(const std::string& run) : registry_(std::make_shared<prometheus::Registry>()) {
  prometheus::Registry& r = *registry_;
  workers_alive_ = NewGauge(r, run, "cloze_coordinator_workers_alive", "Workers of the current generation alive.");
  servers_alive_ = NewGauge(r, run, "cloze_coordinator_servers_alive", "Parameter servers of the current generation alive.");
  generation_ = NewGauge(r, run, "cloze_coordinator_generation", "The job's generation (+1 at every restart).");
  last_checkpoint_step_ = NewGauge(r, run, "cloze_coordinator_last_checkpoint_step", "Step of the last committed checkpoint.");
  last_checkpoint_timestamp_ = NewGauge(r, run, "cloze_coordinator_last_checkpoint_timestamp_seconds",
                                        "Unix time of the last commit (the start time before the first).");
  job_finished_ = NewGauge(r, run, "cloze_coordinator_job_finished", "1 once every worker finished and the final checkpoint is committed.");
  restarts_ = &prometheus::BuildCounter()
                   .Name("cloze_coordinator_restarts_total")
                   .Help("Generations ended by a failed or restarted member.")
                   .Labels({{"run", run}})
                   .Register(r)
                   .Add({});
  start_seconds_ = absl::ToDoubleSeconds(absl::Now() - absl::UnixEpoch());
  last_checkpoint_timestamp_->Set(start_seconds_);
}

CoordinatorMetrics::~CoordinatorMetrics() { endpoint_.reset(); }

void CoordinatorMetrics::Update(const JobStatus& status) {
  int workers = 0, servers = 0;
  for (const MemberStatus& member : status.members()) {
    if (member.alive()) (member.role() == WORKER ? workers : servers) += 1;
  }
  workers_alive_->Set(workers);
  servers_alive_->Set(servers);
  generation_->Set(static_cast<double>(status.generation()));
  last_checkpoint_step_->Set(static_cast<double>(status.last_committed_step()));
  if (status.last_committed_unix_seconds() > 0) last_checkpoint_timestamp_->Set(status.last_committed_unix_seconds());
  job_finished_->Set(status.state() == FINISHED ? 1 : 0);
  // The counter carries the persisted total across coordinator restarts.
  const double missing = static_cast<double>(status.restarts()) - restarts_->Value();
  if (missing > 0) restarts_->Increment(missing);
}

std::string CoordinatorMetrics::ExpositionText() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace cloze
