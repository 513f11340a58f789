// A Prometheus registry as an endpoint scrapes it: collected under its owner's mutex, so that
// a scrape never sees half of an update the owner makes under that mutex (one step's gauges,
// one checkpoint's probe figures).
#ifndef CLOZE_METRICS_LOCKED_REGISTRY_H_
#define CLOZE_METRICS_LOCKED_REGISTRY_H_

#include <memory>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace cloze {

class LockedRegistry : public prometheus::Collectable {
 public:
  // `mu` must outlive this object; the owner holds it while it changes `registry`.
  LockedRegistry(absl::Mutex* mu, std::shared_ptr<prometheus::Registry> registry)
      : mu_(mu), registry_(std::move(registry)) {}

  std::vector<prometheus::MetricFamily> Collect() const override {
    absl::MutexLock lock(mu_);
    return registry_->Collect();
  }

 private:
  absl::Mutex* const mu_;
  const std::shared_ptr<prometheus::Registry> registry_;
};

}  // namespace cloze

#endif  // CLOZE_METRICS_LOCKED_REGISTRY_H_
