#include "server/coordinator_process.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/coordinator_server.h"
#include "rpc/job_auth.h"
#include "trainer/train_config.h"
#include "util/atomic_file.h"
#include "util/exit_status.h"
#include "util/file_error.h"
#include "util/run_dir_lock.h"

namespace cloze {
namespace {

// Set by SIGTERM/SIGINT (an atomic store is all a signal handler may do); a thread polls it.
std::atomic<bool> g_stop{false};

void OnSignal(int) { g_stop = true; }

}  // namespace

int RunCoordinatorProcess(const CoordinatorProcessOptions& flags) {
  const std::string& config_path = flags.config;
  const std::string& run_dir = flags.run_dir;
  if (config_path.empty() || run_dir.empty() || flags.job_token_file.empty()) {
    std::fprintf(stderr,
                 "usage: cloze coordinator --config=TRAIN_CONFIG --run_dir=DIR --job_token_file=F "
                 "[--listen=HOST:PORT --port_file=F --tls_cert=F --tls_key=F --metrics_address=HOST:PORT "
                 "--metrics_port_file=F --run_name=NAME]\n");
    return 2;
  }
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "cloze coordinator: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (flags.adjust_config) {
    if (absl::Status s = flags.adjust_config(*config); !s.ok()) {
      std::fprintf(stderr, "cloze coordinator: %s: %s\n", config_path.c_str(), std::string(s.message()).c_str());
      return 2;
    }
  }
  absl::StatusOr<GrpcSecurity> security = LoadGrpcSecurity(flags.job_token_file,
                                                           flags.tls_cert, flags.tls_key);
  if (!security.ok()) {
    std::fprintf(stderr, "cloze coordinator: %s\n", std::string(security.status().message()).c_str());
    return 2;
  }
  std::error_code error;
  std::filesystem::create_directories(run_dir, error);
  if (error) {
    const absl::Status s = util::FileError(run_dir, "cannot create", error.value());
    std::fprintf(stderr, "cloze coordinator: %s\n", std::string(s.message()).c_str());
    return ExitStatusOf(s);
  }
  // A coordinator started by cloze launch is part of the launcher's job (which holds the
  // lock, inherited by this process); one started alone locks the folder itself.
  std::optional<RunDirLock> lock;
  if (!RunDirLock::HeldByParent(run_dir)) {
    absl::StatusOr<RunDirLock> acquired = RunDirLock::Acquire(run_dir, "cloze coordinator");
    if (!acquired.ok()) {
      std::fprintf(stderr, "cloze coordinator: %s\n", std::string(acquired.status().message()).c_str());
      return ExitStatusOf(acquired.status());  // 1 (in use), 73 (read-only, no permission)
    }
    lock = *std::move(acquired);
  }
  CoordinatorServerOptions options;
  options.coordinator.config = *config;
  options.coordinator.run_dir = run_dir;
  options.security = *security;
  options.listen_address = flags.listen.empty() ? "0.0.0.0:0" : flags.listen;
  options.metrics_address = flags.metrics_address;
  options.run_name = flags.run_name.empty() ? std::filesystem::path(run_dir).filename().string()
                                                          : flags.run_name;
  if (options.run_name.empty()) options.run_name = "default";
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server = CoordinatorServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "cloze coordinator: %s\n", std::string(server.status().message()).c_str());
    return ExitStatusOf(server.status());  // 1, or kExitCannotWrite for an unwritable run folder
  }
  std::fprintf(stderr, "[coordinator] listening on port %d%s\n", (*server)->port(),
               options.metrics_address.empty() ? "" : absl::StrCat(", metrics on port ", (*server)->metrics_port()).c_str());
  const std::string port_file = flags.port_file, metrics_port_file = flags.metrics_port_file;
  // Through a temporary file and a rename: a reader polling for it never sees half of one.
  const std::pair<std::string, int> port_files[] = {{port_file, (*server)->port()},
                                                    {metrics_port_file, (*server)->metrics_port()}};
  for (const auto& [path, port] : port_files) {
    if (path.empty()) continue;
    if (absl::Status s = util::WriteTextFileAtomically(path, absl::StrCat(port, "\n")); !s.ok()) {
      std::fprintf(stderr, "cloze coordinator: %s\n", std::string(s.message()).c_str());
      return ExitStatusOf(s);
    }
  }

  // SIGTERM/SIGINT: stop serving; the saved state lets a new coordinator carry on.
  struct sigaction action = {};
  action.sa_handler = OnSignal;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  std::atomic<bool> done{false};
  std::thread stopper([&] {
    while (!done && !g_stop) absl::SleepFor(absl::Milliseconds(100));
    if (g_stop) (*server)->coordinator().Stop();
  });

  const bool finished = (*server)->WaitUntilFinished();
  if (finished) {
    // Members learn FINISHED from their next heartbeat: give them two.
    absl::SleepFor((*server)->coordinator().heartbeat_interval() * 2 + absl::Milliseconds(100));
  }
  done = true;
  stopper.join();
  (*server)->Shutdown();
  if (absl::Status unsaved = (*server)->coordinator().persist_error(); !unsaved.ok()) {
    std::fprintf(stderr, "cloze coordinator: %s\n", std::string(unsaved.message()).c_str());
    return ExitStatusOf(unsaved);  // a full or read-only run folder: permanent
  }
  std::fprintf(stderr, "[coordinator] %s\n", finished ? "the job finished" : "stopped; the state is saved in the run directory");
  return finished ? 0 : 1;
}

}  // namespace cloze
