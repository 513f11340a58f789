// The `cloze ps` process: one parameter server of a job. Registers with the coordinator as
// PARAMETER_SERVER (advertising its address), learns its rank, the job's config and the
// checkpoint to resume from, serves its range of the model (server/parameter_server.h),
// reports its checkpoint parts to the coordinator, and runs until the job finishes.
// cli/ps_command.cc fills the options from the shared flags (cli/common_flags.h).
//
// The coordinator must know the server's address before the server knows what to serve,
// so with port 0 a free port is picked first (bound, read, released) and then listened on:
// another process could take it in between, and the start then fails (exit 1) and the
// launcher restarts the server. A host of 0.0.0.0 or [::] is advertised as the hostname.
#ifndef CLOZE_SERVER_PS_PROCESS_H_
#define CLOZE_SERVER_PS_PROCESS_H_

#include <string>

namespace cloze {

struct PsProcessOptions {
  std::string coordinator, job_token_file;         // required
  std::string listen = "127.0.0.1:0";              // HOST:PORT; port 0: a free one
  std::string port_file;                           // gets the bound port
  std::string tls_cert, tls_key, tls_ca;           // serve TLS (cert + key); reach the coordinator by CA
  std::string metrics_address, metrics_port_file;  // Prometheus endpoint; empty: none
  std::string run_name;                            // metrics label; empty: "default"
  int requested_rank = -1;                         // cloze ps --rank; -1: any free server rank; < -1: usage error
};

// Returns the exit status (util/exit_status.h): 0 when the job finished or SIGTERM/SIGINT
// stopped the server (also while it was still joining the job: registration, however long
// the job takes to form or the coordinator to answer, gives up within about half a
// second), kExitRestart when the coordinator aborted its generation, 1 when it
// could not serve (restart it), kExitNoCheckpoint when the checkpoint to resume from cannot
// be loaded, 2 on a usage error. Blocks SIGTERM/SIGINT and takes them on a thread of its own
// (started on the first call, for the life of the process).
int RunPsProcess(const PsProcessOptions& options);

}  // namespace cloze

#endif  // CLOZE_SERVER_PS_PROCESS_H_
