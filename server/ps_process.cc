// The `cloze ps` process; server/ps_process.h has its contract.
// One parameter server of a job: registers with the coordinator as PARAMETER_SERVER,
// learns its rank, the job's config and the checkpoint to resume from, serves its range of
// the model (server/parameter_server.h) until the job finishes (exit 0), is aborted by the
// coordinator (exit kExitRestart, to be restarted), or gets SIGTERM/SIGINT (exit 0).
//
// The coordinator must know the server's address before the server knows what to serve, so
// with port 0 a free port is picked first (bound, read, released) and then listened on:
// another process could take it in between, in which case the start fails and the
// launcher restarts the server. A host of 0.0.0.0 or [::] is advertised as this machine's
// hostname.
//
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/ps_process.h"
#include "rpc/job_auth.h"
#include "server/parameter_server.h"
#include "model/parameter_layout.h"
#include "rpc/coordinator_client.h"
#include "rpc/host_port.h"
#include "trainer/training_backend.h"
#include "util/exit_status.h"

namespace cloze {
namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "cloze ps: %s\n", message.c_str());
  return 1;
}

// HOST and PORT of "HOST:PORT" ("[::1]:5000" too).
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), port) || *port < 0) return false;
  *host = address.substr(0, colon);
  return !host->empty();
}

// A port the system considers free now (see the top of the file for the race).
absl::StatusOr<int> PickFreePort(const std::string& host) {
  const bool v6 = host.front() == '[';
  const int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  int bound = -1;
  if (v6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &address.sin6_addr);
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      socklen_t length = sizeof(address);
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) bound = ntohs(address.sin6_port);
    }
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    if (host != "localhost" && inet_pton(AF_INET, host.c_str(), &address.sin_addr) != 1) {
      address.sin_addr.s_addr = htonl(INADDR_ANY);
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
      socklen_t length = sizeof(address);
      if (getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) bound = ntohs(address.sin_port);
    }
  }
  close(fd);
  if (bound <= 0) return absl::UnavailableError(absl::StrCat("cannot find a free port on ", host));
  return bound;
}

bool WriteSmallFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text << "\n";
  return static_cast<bool>(out);
}

}  // namespace

// SIGTERM/SIGINT for the whole life of the process, taken by a thread of its own (sigwait):
// the flag makes a Register still waiting for the job give up (CoordinatorClientOptions.
// stop_requested), and a server already serving is shut down. Outlives RunPsProcess (the
// thread may still wait when it returns), so it is made once and never freed.
class StopSignals {
 public:
  // Blocks the signals, so call it before any other thread starts (they inherit the mask).
  static StopSignals& Take() {
    static StopSignals* const taken = new StopSignals();
    return *taken;
  }
  const std::atomic<bool>* requested() const { return &requested_; }
  // From now on a signal shuts `server` down (nullptr: none); true when one came already,
  // and the server (if any) has been shut down.
  bool Serve(ParameterServer* server) {
    server_.store(server);
    if (!requested_.load()) return false;
    if (server != nullptr) server->Shutdown();  // idempotent: the thread may call it too
    return true;
  }

 private:
  StopSignals() {
    sigemptyset(&signals_);
    sigaddset(&signals_, SIGTERM);
    sigaddset(&signals_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals_, nullptr);
    std::thread([this] {
      int signal_number = 0;
      sigwait(&signals_, &signal_number);
      requested_.store(true);  // before reading server_: Serve reads them the other way round
      if (ParameterServer* server = server_.load(); server != nullptr) server->Shutdown();
    }).detach();
  }

  sigset_t signals_;
  std::atomic<bool> requested_ = false;
  std::atomic<ParameterServer*> server_ = nullptr;
};

int RunPsProcess(const PsProcessOptions& flags) {
  const std::string& coordinator = flags.coordinator;
  if (coordinator.empty()) return std::fprintf(stderr, "cloze ps: --coordinator=HOST:PORT is required\n"), 2;
  std::string host;
  int port = 0;
  if (!SplitHostPort(flags.listen, &host, &port)) {
    return std::fprintf(stderr, "cloze ps: --listen=%s is not HOST:PORT\n", flags.listen.c_str()), 2;
  }
  if (flags.requested_rank < -1) {
    return std::fprintf(stderr, "cloze ps: --rank=%d: want a rank (0 to servers-1), or -1 for any\n",
                        flags.requested_rank), 2;
  }
  absl::StatusOr<GrpcSecurity> security = LoadGrpcSecurity(
      flags.job_token_file, flags.tls_cert, flags.tls_key,
      flags.tls_ca);
  if (!security.ok()) {
    Fail(security.status().ToString());
    return 2;
  }
  if (port == 0) {
    absl::StatusOr<int> free_port = PickFreePort(host);
    if (!free_port.ok()) return Fail(free_port.status().ToString());
    port = *free_port;
  }

  StopSignals& stop = StopSignals::Take();  // before any thread starts

  CoordinatorClientOptions client_options;
  client_options.address = coordinator;
  client_options.security = *security;
  client_options.role = PARAMETER_SERVER;
  client_options.requested_rank = flags.requested_rank;
  client_options.advertised_address = absl::StrCat(ReachableHost(host), ":", port);
  client_options.stop_requested = stop.requested();  // stopped while the job forms: nothing to save
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> client = CoordinatorClient::Connect(client_options);
  if (!client.ok()) return Fail(client.status().ToString());
  absl::StatusOr<RegisterResponse> registered = (*client)->Register(absl::InfiniteDuration());
  if (!registered.ok() && flags.requested_rank >= 0 && absl::IsInvalidArgument(registered.status())) {
    // A rank the job does not have: a configuration error, which no restart mends.
    Fail(absl::StrCat("--rank=", flags.requested_rank, ": the coordinator refused it: ", registered.status().message()));
    return 2;
  }
  if (absl::IsCancelled(registered.status())) {  // as a stop while serving: exit 0
    std::fprintf(stderr, "cloze ps: stopped before joining the job: %s\n",
                 std::string(registered.status().message()).c_str());
    return 0;
  }
  if (!registered.ok()) return Fail(absl::StrCat("registering with ", coordinator, ": ", registered.status().ToString()));
  const TrainConfig& config = registered->config();

  ParameterServerOptions options;
  options.listen_address = absl::StrCat(host, ":", port);
  options.security = *security;
  options.metrics_address = flags.metrics_address;
  options.run_name = flags.run_name.empty() ? "default" : flags.run_name;
  ShardConfig& shard = options.shard;
  // The workers' model: the encoder and the run's head (a fine-tuning task's, or pretraining's).
  shard.layout = BuildParameterLayout(config.model(), HeadSpecOf(config));  // the coordinator validated the config
  shard.server_rank = registered->rank();
  shard.num_servers = registered->num_servers();
  shard.optimizer = config.optimizer();
  shard.workers = registered->world_size();
  shard.consistency = config.distributed().consistency();
  shard.max_staleness = config.distributed().max_staleness();
  shard.run_dir = registered->run_dir();
  shard.checkpoint_every_steps = config.checkpoint().every_steps();
  shard.total_steps = config.total_steps();
  CoordinatorClient* reporter = client->get();
  shard.on_checkpoint_part = [reporter, rank = shard.server_rank](
                                 int64_t step, const absl::StatusOr<std::vector<CheckpointFile>>& files) {
    if (!files.ok()) {
      // The coordinator never commits this step without the part; the previous one stays.
      std::fprintf(stderr, "cloze ps %d: checkpoint part of step %lld: %s\n", rank, static_cast<long long>(step),
                   files.status().ToString().c_str());
      return;
    }
    if (absl::Status status = reporter->ReportCheckpointPart(step, *files, nullptr); !status.ok()) {
      std::fprintf(stderr, "cloze ps %d: reporting the part of step %lld: %s\n", rank, static_cast<long long>(step),
                   status.ToString().c_str());
    }
  };
  absl::StatusOr<std::unique_ptr<ParameterServer>> server = ParameterServer::Start(std::move(options));
  if (!server.ok()) return Fail(server.status().ToString());
  if (!registered->resume_checkpoint().empty()) {
    if (absl::Status status = (*server)->RestoreFromCheckpoint(registered->resume_checkpoint()); !status.ok()) {
      Fail(absl::StrCat("restoring ", registered->resume_checkpoint(), ": ", status.ToString()));
      return ExitStatusOf(PermanentIfBadInput(status, kExitNoCheckpoint));  // as a worker's resume
    }
  }
  if (const std::string file = flags.port_file; !file.empty()) {
    if (!WriteSmallFile(file, absl::StrCat((*server)->port()))) return Fail(absl::StrCat(file, ": cannot write"));
  }
  if (const std::string file = flags.metrics_port_file; !file.empty()) {
    if (!WriteSmallFile(file, absl::StrCat((*server)->metrics_port()))) return Fail(absl::StrCat(file, ": cannot write"));
  }
  if (!flags.metrics_address.empty()) {  // for the run's Prometheus targets file
    (*client)->SetMetricsAddress(ReachableAddress(flags.metrics_address, (*server)->metrics_port()));
  }
  std::fprintf(stderr, "cloze ps: server %d of %d serving tensors [%d, %d) on port %d%s\n", registered->rank(),
               registered->num_servers(), (*server)->shard().tensors().first, (*server)->shard().tensors().second,
               (*server)->port(),
               registered->resume_checkpoint().empty() ? "" : absl::StrCat(", resumed from ",
                                                                           registered->resume_checkpoint()).c_str());

  std::atomic<int> exit_code = 0;
  ParameterServer* running = server->get();
  (*client)->StartHeartbeats(
      [&exit_code, running](const std::string& reason) {
        std::fprintf(stderr, "cloze ps: aborted by the coordinator: %s\n", reason.c_str());
        exit_code = kExitRestart;
        running->Shutdown();
      },
      [running] { running->Shutdown(); });
  stop.Serve(running);  // a signal that came before has shut it down already
  (*server)->Wait();
  stop.Serve(nullptr);  // the server goes with this function
  return exit_code;
}

}  // namespace cloze
