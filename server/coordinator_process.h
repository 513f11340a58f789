// The `cloze coordinator` process: loads the config and the job's credentials, serves the
// coordinator until the job finishes, writes the port files. cli/coordinator_command.cc
// fills the options from the shared flags (cli/common_flags.h).
#ifndef CLOZE_SERVER_COORDINATOR_PROCESS_H_
#define CLOZE_SERVER_COORDINATOR_PROCESS_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "proto/train_config.pb.h"

namespace cloze {

struct CoordinatorProcessOptions {
  std::string config, run_dir, job_token_file;       // required
  std::string listen;                                // HOST:PORT; empty: 0.0.0.0:0
  std::string port_file;                             // gets the bound port (atomically)
  std::string tls_cert, tls_key;                     // both or neither
  std::string metrics_address, metrics_port_file;    // Prometheus endpoint; empty: none
  std::string run_name;                              // metrics label; empty: run_dir's name
  // Applied to the loaded config before it is served (cloze coordinator --workers/--ps, for
  // a job whose size the cluster decides); its error is a usage error (exit 2).
  std::function<absl::Status(TrainConfig&)> adjust_config;
};

// Returns the exit status: 0 once the job finished (after two heartbeat intervals, so that
// members see FINISHED), 1 when it could not serve or was stopped by SIGTERM/SIGINT (the
// state is saved: a new coordinator carries on), 2 on a usage error (missing or bad config,
// token or certificates). Installs SIGTERM/SIGINT handlers.
int RunCoordinatorProcess(const CoordinatorProcessOptions& options);

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_PROCESS_H_
