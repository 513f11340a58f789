// cloze coordinator: the job's coordinator (server/coordinator.h) until the job finishes.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "cli/common_flags.h"
#include "cli/launch_job.h"
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
  // --workers/--ps (and --device, which decides what the workers can run with): the job's
  // size as the cluster gave it (deploy/slurm/pretrain.sbatch), applied as cloze launch does.
  if (absl::GetFlag(FLAGS_workers) > 0 || absl::GetFlag(FLAGS_ps) >= 0) {
    options.adjust_config = [](TrainConfig& config) {
      absl::StatusOr<TrainingDevice> device = TrainingDeviceFromFlags();
      return device.ok() ? ApplyJobFlags(config, *device) : device.status();
    };
  }
  return RunCoordinatorProcess(options);
}

}  // namespace cloze::cli
