// cloze coordinator: the job's coordinator (server/coordinator.h) until the job finishes.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common_flags.h"
#include "server/coordinator_process.h"

namespace cloze::cli {

int RunCoordinatorCommand(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "cloze coordinator: unexpected argument \"%s\" (it takes flags only)\n", args[0].c_str());
    return 2;
  }
  CoordinatorProcessOptions options;
  options.config = absl::GetFlag(FLAGS_config);
  options.run_dir = absl::GetFlag(FLAGS_run_dir);
  options.job_token_file = absl::GetFlag(FLAGS_job_token_file);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  options.run_name = absl::GetFlag(FLAGS_run_name);
  return RunCoordinatorProcess(options);
}

}  // namespace cloze::cli
