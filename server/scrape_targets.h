// The run's Prometheus service-discovery file (<run_dir>/prometheus_targets.json, in the
// file_sd format): one target group per process of the job (the coordinator, every
// worker, every parameter server) with its metrics address and the labels run, role
// (coordinator, worker, ps) and rank. The coordinator rewrites it whenever the job's
// members or their addresses change (a new generation, a restarted worker on a new port),
// so a Prometheus with
//
//   file_sd_configs: [{files: ["/shared/runs/*/prometheus_targets.json"]}]
//
// scrapes every process of every run without editing its configuration
// (deploy/prometheus/prometheus.yml has the example).
#ifndef CLOZE_SERVER_SCRAPE_TARGETS_H_
#define CLOZE_SERVER_SCRAPE_TARGETS_H_

#include <string>

#include "absl/status/status.h"
#include "proto/coordinator.pb.h"

namespace cloze {

inline constexpr char kScrapeTargetsFileName[] = "prometheus_targets.json";

// The file_sd JSON for `status`'s members that reported a metrics address (workers, then
// parameter servers, by rank), after the coordinator's own target when
// `coordinator_address` is not empty. Members of an ended generation are not listed: their
// processes are exiting. The text ends with a newline.
std::string ScrapeTargetsJson(const std::string& run, const std::string& coordinator_address,
                              const JobStatus& status);

// Keeps <run_dir>/prometheus_targets.json up to date. Not thread-safe: one caller (the
// coordinator server's watchdog thread).
class ScrapeTargetsFile {
 public:
  ScrapeTargetsFile(std::string run_dir, std::string run, std::string coordinator_address);

  // Writes the file (into a temporary file, renamed over it: Prometheus never reads half
  // of one) when its text differs from what this object last wrote. The error names the
  // path; the next call tries again.
  absl::Status Update(const JobStatus& status);

  const std::string& path() const { return path_; }

 private:
  const std::string path_, run_, coordinator_address_;
  std::string written_;
};

}  // namespace cloze

#endif  // CLOZE_SERVER_SCRAPE_TARGETS_H_
