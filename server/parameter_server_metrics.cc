#include "server/parameter_server_metrics.h"

#include <exception>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"
#include "prometheus/text_serializer.h"

namespace cloze {

// Builds the families at scrape time from the atomics and the shard's counters: nothing
// on the serving path touches a registry.
class ParameterServerMetrics::Collector : public prometheus::Collectable {
 public:
  Collector(const ParameterShard* shard, const ParameterServerMetrics* metrics, std::string run)
      : shard_(shard), metrics_(metrics), run_(std::move(run)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<prometheus::MetricFamily> families;
    const auto add = [&](const char* name, const char* help, prometheus::MetricType type, double value) {
      prometheus::ClientMetric metric;
      metric.label = {{"run", run_}, {"server", absl::StrCat(shard_->server_rank())}};
      if (type == prometheus::MetricType::Counter) {
        metric.counter.value = value;
      } else {
        metric.gauge.value = value;
      }
      families.push_back({name, help, type, {metric}});
    };
    using prometheus::MetricType;
    const auto load = [](const std::atomic<int64_t>& a) { return static_cast<double>(a.load()); };
    add("cloze_ps_bytes_pushed_total", "Gradient bytes received by Push.", MetricType::Counter,
        load(metrics_->pushed_bytes_));
    add("cloze_ps_bytes_pulled_total", "Parameter bytes sent by Pull.", MetricType::Counter,
        load(metrics_->pulled_bytes_));
    add("cloze_ps_bytes_initialized_total", "Initial parameter bytes received by Init.", MetricType::Counter,
        load(metrics_->initialized_bytes_));
    add("cloze_ps_steps_applied_total", "Optimizer updates applied.", MetricType::Counter,
        static_cast<double>(shard_->updates_applied()));
    add("cloze_ps_steps_skipped_total", "Updates the guard skipped.", MetricType::Counter,
        static_cast<double>(shard_->updates_skipped()));
    add("cloze_ps_rollbacks_total", "Rollbacks to a committed checkpoint (the loss guard's).", MetricType::Counter,
        static_cast<double>(shard_->rollbacks()));
    add("cloze_ps_step", "Completed steps (bounded staleness: the slowest worker's).", MetricType::Gauge,
        static_cast<double>(shard_->completed_steps()));
    return families;
  }

 private:
  const ParameterShard* const shard_;
  const ParameterServerMetrics* const metrics_;
  const std::string run_;
};

absl::StatusOr<std::unique_ptr<ParameterServerMetrics>> ParameterServerMetrics::Start(
    const ParameterShard* shard, const std::string& listen_address, const std::string& run) {
  std::unique_ptr<ParameterServerMetrics> metrics(new ParameterServerMetrics());
  metrics->collector_ = std::make_shared<Collector>(shard, metrics.get(), run);
  if (listen_address.empty()) return metrics;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::Start("parameter server metrics", listen_address);
  if (!endpoint.ok()) return endpoint.status();
  metrics->endpoint_ = *std::move(endpoint);
  metrics->endpoint_->RegisterCollectable(metrics->collector_);
  metrics->port_ = metrics->endpoint_->port();
  return metrics;
}

ParameterServerMetrics::~ParameterServerMetrics() { endpoint_.reset(); }

std::string ParameterServerMetrics::ExpositionText() const {
  return prometheus::TextSerializer().Serialize(collector_->Collect());
}

}  // namespace cloze
