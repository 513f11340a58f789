// The prober's Prometheus gauges (`cloze probe --follow --metrics_address`), served by the
// endpoint every cloze process uses (metrics/metrics_endpoint.h):
//
//   cloze_probe_accuracy{run, probe, layer, class}  accuracy, 0 to 1, of the newest
//       checkpoint probed by that probe; layer "0" (embeddings) .. "L", or "mlm_head" for
//       the fill and reconstruction probes, which read the masked-LM head
//   cloze_probe_step{run, probe}  the step of that checkpoint
//
// `run` is the run folder's name, as on the training job's metrics. Records of an older
// step than a probe's newest (a late retry) do not replace its figures.
#ifndef CLOZE_PROBE_PROBE_METRICS_H_
#define CLOZE_PROBE_PROBE_METRICS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "metrics/locked_registry.h"
#include "metrics/metrics_endpoint.h"
#include "probe/probe_log.h"

namespace prometheus {
class Gauge;
template <typename T>
class Family;
class Registry;
}  // namespace prometheus

namespace cloze::probe {

class ProbeMetrics {
 public:
  // Serves on `address` ("HOST:PORT", port 0: any free port; empty: no endpoint, the
  // figures only kept for ExpositionText). Unavailable when it cannot listen.
  static absl::StatusOr<std::unique_ptr<ProbeMetrics>> Start(const std::string& address, const std::string& run);
  ~ProbeMetrics();

  // Sets the gauges from `records` (probes.jsonl's, in any order): per probe, its newest step.
  void Publish(const std::vector<ProbeRecord>& records);
  int port() const { return endpoint_ == nullptr ? 0 : endpoint_->port(); }
  std::string ExpositionText() const;

 private:
  ProbeMetrics(std::string run, std::shared_ptr<prometheus::Registry> registry);

  const std::string run_;
  mutable absl::Mutex mu_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>* accuracy_ ABSL_GUARDED_BY(mu_);
  prometheus::Family<prometheus::Gauge>* step_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> newest_step_ ABSL_GUARDED_BY(mu_);  // by probe
  std::shared_ptr<LockedRegistry> collectable_;
  std::unique_ptr<MetricsEndpoint> endpoint_;
};

}  // namespace cloze::probe

#endif  // CLOZE_PROBE_PROBE_METRICS_H_
