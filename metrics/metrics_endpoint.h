// The Prometheus endpoint every cloze process serves (training, coordinator, parameter
// servers): GET /metrics in the text exposition format, from prometheus-cpp collectables.
//
// Why not prometheus-cpp's Exposer: its civetweb (Debian's build) starts its threads with a
// fixed 100 KiB stack, and glibc puts every loaded library's static TLS on each thread's
// stack; with cuBLASLt (94 KiB of TLS) and OpenBLAS loaded, civetweb cannot start a thread
// in the CUDA-enabled binary. One small server on a thread of our own has no such limit,
// and a scrape every few seconds needs no more.
#ifndef CLOZE_METRICS_METRICS_ENDPOINT_H_
#define CLOZE_METRICS_METRICS_ENDPOINT_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "prometheus/collectable.h"

namespace cloze {

class MetricsEndpoint {
 public:
  // Listens on `address` ("HOST:PORT"; port 0: any free port) and serves from a thread of
  // its own. Unavailable naming `who` and the address when it cannot listen.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& who, const std::string& address);
  // Stops serving and joins the thread.
  ~MetricsEndpoint();

  // Its metrics are served from now on, while the collectable lives. Thread-safe.
  void RegisterCollectable(const std::weak_ptr<prometheus::Collectable>& collectable);
  int port() const { return port_; }

 private:
  MetricsEndpoint(int listen_fd, int port);
  void Serve();
  void Answer(int connection);
  std::string Scrape();

  const int listen_fd_;
  const int port_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<std::weak_ptr<prometheus::Collectable>> collectables_;
  std::thread thread_;
};

}  // namespace cloze

#endif  // CLOZE_METRICS_METRICS_ENDPOINT_H_
