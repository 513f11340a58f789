// `cloze coordinator` alone (its flags, RunCoordinatorProcess), for coordinator_cli_test
// until cli/main.cc wires the subcommand in.
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "server/coordinator_process.h"

ABSL_FLAG(std::string, config, "", "TrainConfig");
ABSL_FLAG(std::string, run_dir, "", "run directory");
ABSL_FLAG(std::string, job_token_file, "", "job token");
ABSL_FLAG(std::string, listen, "127.0.0.1:0", "HOST:PORT");
ABSL_FLAG(std::string, port_file, "", "gets the port");
ABSL_FLAG(std::string, metrics_address, "", "HOST:PORT");
ABSL_FLAG(std::string, metrics_port_file, "", "gets the metrics port");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  cloze::CoordinatorProcessOptions options;
  options.config = absl::GetFlag(FLAGS_config);
  options.run_dir = absl::GetFlag(FLAGS_run_dir);
  options.job_token_file = absl::GetFlag(FLAGS_job_token_file);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.metrics_address = absl::GetFlag(FLAGS_metrics_address);
  options.metrics_port_file = absl::GetFlag(FLAGS_metrics_port_file);
  return cloze::RunCoordinatorProcess(options);
}
