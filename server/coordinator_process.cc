#include "server/coordinator_process.h"

#include <signal.h>

#include <atomic>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/coordinator_server.h"
#include "rpc/job_auth.h"
#include "trainer/train_config.h"
#include "util/run_dir_lock.h"

namespace cloze {
namespace {

// Writes `text` to `path` through a temporary file and a rename, so that a reader polling
// for the file never sees it half written.
bool WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    out << text;
    if (!out.good()) return false;
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  return !error;
}

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
    std::fprintf(stderr, "cloze coordinator: %s: cannot create: %s\n", run_dir.c_str(), error.message().c_str());
    return 1;
  }
  // A coordinator started by cloze launch is part of the launcher's job (which holds the
  // lock, inherited by this process); one started alone locks the folder itself.
  std::optional<RunDirLock> lock;
  if (!RunDirLock::HeldByParent(run_dir)) {
    absl::StatusOr<RunDirLock> acquired = RunDirLock::Acquire(run_dir, "cloze coordinator");
    if (!acquired.ok()) {
      std::fprintf(stderr, "cloze coordinator: %s\n", std::string(acquired.status().message()).c_str());
      return 1;
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
    return 1;
  }
  std::fprintf(stderr, "[coordinator] listening on port %d%s\n", (*server)->port(),
               options.metrics_address.empty() ? "" : absl::StrCat(", metrics on port ", (*server)->metrics_port()).c_str());
  const std::string port_file = flags.port_file, metrics_port_file = flags.metrics_port_file;
  if (!port_file.empty() && !WriteFileAtomically(port_file, absl::StrCat((*server)->port(), "\n"))) {
    std::fprintf(stderr, "cloze coordinator: %s: cannot write the port\n", port_file.c_str());
    return 1;
  }
  if (!metrics_port_file.empty() &&
      !WriteFileAtomically(metrics_port_file, absl::StrCat((*server)->metrics_port(), "\n"))) {
    std::fprintf(stderr, "cloze coordinator: %s: cannot write the metrics port\n", metrics_port_file.c_str());
    return 1;
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
  std::fprintf(stderr, "[coordinator] %s\n", finished ? "the job finished" : "stopped; the state is saved in the run directory");
  return finished ? 0 : 1;
}

}  // namespace cloze
