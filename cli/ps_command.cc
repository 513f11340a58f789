// cloze ps: one parameter server of a job (server/ps_process.h) until the job finishes.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common_flags.h"
#include "server/ps_process.h"

namespace cloze::cli {

int RunPsCommand(const std::vector<std::string>& args) {
  if (!args.empty()) {
    std::fprintf(stderr, "cloze ps: unexpected argument \"%s\" (it takes flags only)\n", args[0].c_str());
    return 2;
  }
  PsProcessOptions options;
  options.coordinator = absl::GetFlag(FLAGS_coordinator);
  options.job_token_file = absl::GetFlag(FLAGS_job_token_file);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.tls_cert = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key = absl::GetFlag(FLAGS_tls_key);
  options.tls_ca = absl::GetFlag(FLAGS_tls_ca);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  options.run_name = absl::GetFlag(FLAGS_run_name);
  options.requested_rank = absl::GetFlag(FLAGS_rank);
  return RunPsProcess(options);
}

}  // namespace cloze::cli
