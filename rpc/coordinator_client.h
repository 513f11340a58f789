// A job member's (worker's or parameter server's) side of the coordinator
// (server/coordinator.h): registration, background heartbeats, rendezvous, checkpoint
// reports and the end of the job, retrying through coordinator restarts.
//
// Retries: UNAVAILABLE (coordinator down or restarting) is retried for up to
// reconnect_window from the first failure of a call; long polls are re-issued when they
// return DEADLINE_EXCEEDED until the caller's timeout. Other errors are returned as they are.
#ifndef CLOZE_RPC_COORDINATOR_CLIENT_H_
#define CLOZE_RPC_COORDINATOR_CLIENT_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "proto/coordinator.grpc.pb.h"
#include "rpc/job_auth.h"
#include "util/exit_status.h"

namespace cloze {

// kExitRestart (util/exit_status.h): the exit status of a member (worker or parameter
// server) whose job generation ended because of another member's failure.

struct CoordinatorClientOptions {
  std::string address;    // the coordinator's HOST:PORT
  GrpcSecurity security;  // job token; tls_ca_pem for TLS
  Role role = WORKER;
  int requested_rank = -1;          // the MPI rank under mpirun; -1: any free rank
  std::string advertised_address;   // a parameter server's own gRPC address
  absl::Duration reconnect_window = absl::Seconds(60);  // keep retrying UNAVAILABLE this long
  // Set (from a signal handler: SIGTERM) to give up joining: Register and Rendezvous then
  // return Cancelled within about kStopCheckInterval instead of retrying or long-polling on
  // (a member stopped while its generation forms has nothing to save and must not wait
  // minutes). The other calls ignore it: a stopping worker still reports its last
  // checkpoint and waits for the commit. Not owned; may be null.
  const std::atomic<bool>* stop_requested = nullptr;
  // Empty: "host:pid:random".
  std::string member_id;
};

// How often a waiting call looks at CoordinatorClientOptions.stop_requested.
inline constexpr absl::Duration kStopCheckInterval = absl::Milliseconds(500);

// Thread safety: every method may be called from any thread; Register must return before
// the calls that need a generation (all but GetJobStatus and WaitForCheckpoint).
class CoordinatorClient {
 public:
  // Creates the channel (no call is made: the coordinator may not be up yet).
  // InvalidArgument for an empty address or job token.
  static absl::StatusOr<std::unique_ptr<CoordinatorClient>> Connect(CoordinatorClientOptions options);
  ~CoordinatorClient();  // stops the heartbeat thread (without calling on_abort)

  const std::string& member_id() const { return member_id_; }
  int64_t generation() const;

  // Registers and waits until the generation forms (retrying DEADLINE_EXCEEDED and, within
  // the reconnect window, UNAVAILABLE). Remembers generation and heartbeat interval for the
  // calls below. DeadlineExceeded when `timeout` passes first; Cancelled when stop_requested
  // is set first.
  absl::StatusOr<RegisterResponse> Register(absl::Duration timeout);

  // Background heartbeats every interval, carrying the latest SetProgress. on_abort(reason)
  // is called once (from the heartbeat thread) on ABORT, on an error that retrying cannot
  // fix (a wrong token...), or when the coordinator stays unreachable longer than the
  // reconnect window; on_finished() once on FINISHED. Either ends the heartbeats. While the
  // coordinator is unreachable, heartbeats keep retrying (training goes on). Call once,
  // after Register.
  void StartHeartbeats(std::function<void(const std::string&)> on_abort, std::function<void()> on_finished = {});
  void SetProgress(int64_t step, double loss, double tokens_per_second);
  // Where this member serves Prometheus ("HOST:PORT" a scraper can reach; rpc/host_port.h
  // ReachableAddress), told to the coordinator with every heartbeat from now on.
  void SetMetricsAddress(const std::string& address);

  // Publishes `value` under `key` for this generation (publish) or waits for it. Cancelled
  // when stop_requested is set first.
  absl::StatusOr<std::string> Rendezvous(const std::string& key, const std::string& value, bool publish,
                                         absl::Duration timeout);
  // Reports this member's part of the checkpoint of `step` (manifest: worker rank 0 only,
  // else nullptr). When it is the last part the coordinator commits before answering.
  absl::Status ReportCheckpointPart(int64_t step, const std::vector<CheckpointFile>& files,
                                    const CheckpointManifest* manifest);
  // The committed directory once a checkpoint of at least `step` is committed.
  absl::StatusOr<std::string> WaitForCheckpoint(int64_t step, absl::Duration timeout);
  absl::Status Finish(int64_t step);
  absl::StatusOr<JobStatus> GetJobStatus();

 private:
  explicit CoordinatorClient(CoordinatorClientOptions options);
  // Runs `call(context, deadline)` until it succeeds, fails otherwise than retryably, or
  // time runs out. `per_attempt` bounds each attempt; `total` (InfiniteDuration: only the
  // reconnect window) bounds all of them; DEADLINE_EXCEEDED is retried when `long_poll`.
  // With a stop flag and `stoppable`, attempts last at most kStopCheckInterval (the
  // coordinator answers a shorter long poll sooner) and every retry first looks at the flag.
  absl::Status Call(const std::function<grpc::Status(grpc::ClientContext&)>& call, absl::Duration per_attempt,
                    absl::Duration total, bool long_poll, bool stoppable = false);
  void HeartbeatLoop(std::function<void(const std::string&)> on_abort, std::function<void()> on_finished);

  const CoordinatorClientOptions options_;
  const std::string member_id_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Coordinator::Stub> stub_;

  mutable absl::Mutex mu_;
  int64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration heartbeat_interval_ ABSL_GUARDED_BY(mu_) = absl::Milliseconds(500);
  int64_t step_ ABSL_GUARDED_BY(mu_) = 0;
  double loss_ ABSL_GUARDED_BY(mu_) = 0, tokens_per_second_ ABSL_GUARDED_BY(mu_) = 0;
  std::string metrics_address_ ABSL_GUARDED_BY(mu_);

  absl::Notification stop_;
  std::thread heartbeat_thread_;
};

}  // namespace cloze

#endif  // CLOZE_RPC_COORDINATOR_CLIENT_H_
