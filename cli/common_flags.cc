#include "cli/common_flags.h"

#include <algorithm>
#include <string>
#include <thread>

#include "absl/flags/flag.h"

ABSL_FLAG(uint64_t, seed, 12345, "seed of everything random (parameters, data, dropout)");
ABSL_FLAG(int, threads, 0, "worker threads (0: one per hardware thread)");

ABSL_FLAG(std::string, config, "", "training config (text TrainConfig, e.g. configs/train-demo.textproto)");
ABSL_FLAG(std::string, run_dir, "", "run directory (checkpoints, metrics.jsonl); a run resumes if it has checkpoints");
ABSL_FLAG(std::string, run_name, "", "the metrics' run label (default: the run directory's name)");
ABSL_FLAG(std::string, metrics_address, "127.0.0.1:9400",
          "Prometheus endpoint HOST:PORT (port 0: any free port; empty: none)");
ABSL_FLAG(std::string, metrics_port_file, "", "write the Prometheus endpoint's port to this file");

ABSL_FLAG(std::string, coordinator, "", "the job's coordinator, HOST:PORT");
ABSL_FLAG(std::string, listen, "127.0.0.1:0", "this service's gRPC address HOST:PORT (port 0: any free port)");
ABSL_FLAG(std::string, port_file, "", "write the gRPC port actually bound to this file");
ABSL_FLAG(std::string, job_token_file, "", "file holding the job's shared token (cloze launch writes one)");
ABSL_FLAG(std::string, tls_cert, "", "PEM certificate chain of this service (with --tls_key: serve TLS)");
ABSL_FLAG(std::string, tls_key, "", "PEM private key of --tls_cert");
ABSL_FLAG(std::string, tls_ca, "", "PEM CA certificate to verify the job's servers by (client-side TLS)");

namespace cloze::cli {

int CommandThreads() {
  const int threads = absl::GetFlag(FLAGS_threads);
  return threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace cloze::cli
