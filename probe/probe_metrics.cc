#include "probe/probe_metrics.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "prometheus/collectable.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "prometheus/text_serializer.h"

namespace cloze::probe {

ProbeMetrics::ProbeMetrics(std::string run, std::shared_ptr<prometheus::Registry> registry)
    : run_(std::move(run)),
      registry_(std::move(registry)),
      accuracy_(&prometheus::BuildGauge()
                     .Name("cloze_probe_accuracy")
                     .Help("Probe accuracy (0 to 1) of the newest checkpoint probed, per probe, layer and class.")
                     .Register(*registry_)),
      step_(&prometheus::BuildGauge()
                 .Name("cloze_probe_step")
                 .Help("Step of the newest checkpoint probed, per probe.")
                 .Register(*registry_)),
      collectable_(std::make_shared<LockedRegistry>(&mu_, registry_)) {}

ProbeMetrics::~ProbeMetrics() { endpoint_.reset(); }  // stop serving before the registry goes

absl::StatusOr<std::unique_ptr<ProbeMetrics>> ProbeMetrics::Start(const std::string& address,
                                                                  const std::string& run) {
  std::unique_ptr<ProbeMetrics> metrics(new ProbeMetrics(run, std::make_shared<prometheus::Registry>()));
  if (address.empty()) return metrics;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = MetricsEndpoint::Start("cloze probe", address);
  if (!endpoint.ok()) return endpoint.status();
  metrics->endpoint_ = *std::move(endpoint);
  metrics->endpoint_->RegisterCollectable(metrics->collectable_);
  return metrics;
}

void ProbeMetrics::Publish(const std::vector<ProbeRecord>& records) {
  absl::MutexLock lock(&mu_);
  for (const ProbeRecord& r : records) {
    auto [newest, inserted] = newest_step_.try_emplace(r.probe, r.step);
    if (!inserted && r.step < newest->second) continue;
    newest->second = r.step;
  }
  for (const ProbeRecord& r : records) {
    if (r.step != newest_step_[r.probe]) continue;
    const std::string layer = r.layer.has_value() ? absl::StrCat(*r.layer) : "mlm_head";
    accuracy_->Add({{"run", run_}, {"probe", r.probe}, {"layer", layer}, {"class", r.class_name}}).Set(r.accuracy);
    step_->Add({{"run", run_}, {"probe", r.probe}}).Set(static_cast<double>(r.step));
  }
}

std::string ProbeMetrics::ExpositionText() const {
  return prometheus::TextSerializer().Serialize(collectable_->Collect());
}

}  // namespace cloze::probe
