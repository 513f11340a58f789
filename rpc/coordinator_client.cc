#include "rpc/coordinator_client.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace cloze {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

std::string NewMemberId() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  std::random_device random;
  return absl::StrCat(host[0] ? host : "host", ":", getpid(), ":", absl::Hex(random(), absl::kZeroPad8));
}

void SetDeadline(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
}

// Long polls ask the server for at most this long per call, so that a lost connection is
// noticed and retried.
constexpr absl::Duration kLongPollSlice = absl::Seconds(10);
constexpr absl::Duration kShortCall = absl::Seconds(10);
// Commits run inside the last report: fsyncs of a large model's files.
constexpr absl::Duration kReportCall = absl::Seconds(120);

}  // namespace

absl::StatusOr<std::unique_ptr<CoordinatorClient>> CoordinatorClient::Connect(CoordinatorClientOptions options) {
  if (options.address.empty()) return absl::InvalidArgumentError("--coordinator: the coordinator's HOST:PORT is required");
  if (options.security.job_token.empty()) return absl::InvalidArgumentError("the coordinator client needs the job token");
  return std::unique_ptr<CoordinatorClient>(new CoordinatorClient(std::move(options)));
}

CoordinatorClient::CoordinatorClient(CoordinatorClientOptions options)
    : options_(std::move(options)), member_id_(options_.member_id.empty() ? NewMemberId() : options_.member_id) {
  grpc::ChannelArguments args;
  // Reconnect quickly after a coordinator restart (gRPC's default backoff grows to 2 min).
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  channel_ = grpc::CreateCustomChannel(options_.address, MakeChannelCredentials(options_.security), args);
  stub_ = Coordinator::NewStub(channel_);
}

CoordinatorClient::~CoordinatorClient() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
}

int64_t CoordinatorClient::generation() const {
  absl::MutexLock lock(&mu_);
  return generation_;
}

absl::Status CoordinatorClient::Call(const std::function<grpc::Status(grpc::ClientContext&)>& call,
                                     absl::Duration per_attempt, absl::Duration total, bool long_poll,
                                     bool stoppable) {
  const absl::Time start = absl::Now(), end = start + total;
  absl::Time unavailable_since = absl::InfiniteFuture();
  absl::Duration backoff = absl::Milliseconds(50);
  if (options_.stop_requested != nullptr && stoppable) per_attempt = std::min(per_attempt, kStopCheckInterval);
  while (true) {
    if (options_.stop_requested != nullptr && options_.stop_requested->load()) {
      return absl::CancelledError("stopped (SIGTERM or SIGINT) while waiting to join the job");
    }
    const absl::Time now = absl::Now();
    grpc::ClientContext context;
    AttachJobToken(context, options_.security);
    SetDeadline(context, std::max(absl::Milliseconds(1), std::min(per_attempt, end - now)));
    const absl::Status status = FromGrpc(call(context));
    const absl::Time after = absl::Now();
    if (status.ok()) return status;
    const bool unavailable = absl::IsUnavailable(status);
    if (!unavailable && !(long_poll && absl::IsDeadlineExceeded(status))) return status;
    if (unavailable) {
      unavailable_since = std::min(unavailable_since, after);
      if (after - unavailable_since > options_.reconnect_window) {
        return absl::UnavailableError(absl::StrCat("the coordinator at ", options_.address, " is unreachable for ",
                                                   absl::FormatDuration(options_.reconnect_window), ": ",
                                                   status.message()));
      }
    } else {
      unavailable_since = absl::InfiniteFuture();
    }
    if (after >= end) {
      return unavailable ? status : absl::DeadlineExceededError(absl::StrCat("no answer from the coordinator within ",
                                                                             absl::FormatDuration(total)));
    }
    if (unavailable) {
      absl::SleepFor(std::min(backoff, end - after));
      backoff = std::min(backoff * 2, absl::Seconds(1));
    }
  }
}

absl::StatusOr<RegisterResponse> CoordinatorClient::Register(absl::Duration timeout) {
  RegisterRequest request;
  request.set_role(options_.role);
  request.set_member_id(member_id_);
  request.set_requested_rank(options_.requested_rank);
  request.set_address(options_.advertised_address);
  request.set_pid(getpid());
  RegisterResponse response;
  absl::Status status = Call(
      [&](grpc::ClientContext& context) { return stub_->Register(&context, request, &response); }, kLongPollSlice,
      timeout, /*long_poll=*/true, /*stoppable=*/true);
  if (!status.ok()) return status;
  absl::MutexLock lock(&mu_);
  generation_ = response.generation();
  if (response.heartbeat_interval_seconds() > 0) heartbeat_interval_ = absl::Seconds(response.heartbeat_interval_seconds());
  return response;
}

void CoordinatorClient::StartHeartbeats(std::function<void(const std::string&)> on_abort,
                                        std::function<void()> on_finished) {
  heartbeat_thread_ = std::thread([this, on_abort = std::move(on_abort), on_finished = std::move(on_finished)] {
    HeartbeatLoop(on_abort, on_finished);
  });
}

void CoordinatorClient::SetProgress(int64_t step, double loss, double tokens_per_second) {
  absl::MutexLock lock(&mu_);
  step_ = step;
  loss_ = loss;
  tokens_per_second_ = tokens_per_second;
}

void CoordinatorClient::SetMetricsAddress(const std::string& address) {
  absl::MutexLock lock(&mu_);
  metrics_address_ = address;
}

void CoordinatorClient::HeartbeatLoop(std::function<void(const std::string&)> on_abort,
                                      std::function<void()> on_finished) {
  absl::Time unreachable_since = absl::InfiniteFuture();
  absl::Duration interval;
  do {
    HeartbeatRequest request;
    {
      absl::MutexLock lock(&mu_);
      request.set_member_id(member_id_);
      request.set_generation(generation_);
      request.set_step(step_);
      request.set_loss(loss_);
      request.set_tokens_per_second(tokens_per_second_);
      request.set_metrics_address(metrics_address_);
      interval = heartbeat_interval_;
    }
    grpc::ClientContext context;
    AttachJobToken(context, options_.security);
    SetDeadline(context, std::max(interval * 2, absl::Seconds(1)));
    HeartbeatResponse response;
    const absl::Status status = FromGrpc(stub_->Heartbeat(&context, request, &response));
    if (status.ok()) {
      unreachable_since = absl::InfiniteFuture();
      if (response.action() == HeartbeatResponse::ABORT) {
        if (on_abort) on_abort(response.reason());
        return;
      }
      if (response.action() == HeartbeatResponse::FINISHED) {
        if (on_finished) on_finished();
        return;
      }
    } else if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
      unreachable_since = std::min(unreachable_since, absl::Now());
      if (absl::Now() - unreachable_since > options_.reconnect_window) {
        if (on_abort) {
          on_abort(absl::StrCat("the coordinator at ", options_.address, " is unreachable for ",
                                absl::FormatDuration(options_.reconnect_window), ": ", status.message()));
        }
        return;
      }
    } else {
      if (on_abort) on_abort(absl::StrCat("heartbeat refused: ", status.ToString()));
      return;
    }
  } while (!stop_.WaitForNotificationWithTimeout(interval));
}

absl::StatusOr<std::string> CoordinatorClient::Rendezvous(const std::string& key, const std::string& value,
                                                          bool publish, absl::Duration timeout) {
  RendezvousRequest request;
  request.set_member_id(member_id_);
  request.set_generation(generation());
  request.set_key(key);
  request.set_value(value);
  request.set_publish(publish);
  RendezvousResponse response;
  absl::Status status = Call(
      [&](grpc::ClientContext& context) { return stub_->Rendezvous(&context, request, &response); }, kLongPollSlice,
      timeout, /*long_poll=*/true, /*stoppable=*/true);
  if (!status.ok()) return status;
  return response.value();
}

absl::Status CoordinatorClient::ReportCheckpointPart(int64_t step, const std::vector<CheckpointFile>& files,
                                                     const CheckpointManifest* manifest) {
  CheckpointPartReport report;
  report.set_member_id(member_id_);
  report.set_generation(generation());
  report.set_step(step);
  for (const CheckpointFile& file : files) *report.add_files() = file;
  if (manifest != nullptr) *report.mutable_manifest() = *manifest;
  CheckpointPartAck ack;
  // A report is idempotent, so an attempt that timed out (a slow commit) is repeated.
  return Call([&](grpc::ClientContext& context) { return stub_->ReportCheckpointPart(&context, report, &ack); },
              kReportCall, absl::InfiniteDuration(), /*long_poll=*/true);
}

absl::StatusOr<std::string> CoordinatorClient::WaitForCheckpoint(int64_t step, absl::Duration timeout) {
  WaitForCheckpointRequest request;
  request.set_step(step);
  request.set_generation(generation());
  WaitForCheckpointResponse response;
  absl::Status status = Call(
      [&](grpc::ClientContext& context) { return stub_->WaitForCheckpoint(&context, request, &response); },
      kLongPollSlice, timeout, /*long_poll=*/true);
  if (!status.ok()) return status;
  return response.path();
}

absl::Status CoordinatorClient::Finish(int64_t step) {
  FinishRequest request;
  request.set_member_id(member_id_);
  request.set_generation(generation());
  request.set_step(step);
  FinishResponse response;
  return Call([&](grpc::ClientContext& context) { return stub_->Finish(&context, request, &response); }, kShortCall,
              absl::InfiniteDuration(), /*long_poll=*/false);
}

absl::StatusOr<JobStatus> CoordinatorClient::GetJobStatus() {
  JobStatusRequest request;
  JobStatus response;
  absl::Status status =
      Call([&](grpc::ClientContext& context) { return stub_->GetJobStatus(&context, request, &response); }, kShortCall,
           absl::InfiniteDuration(), /*long_poll=*/false);
  if (!status.ok()) return status;
  return response;
}

}  // namespace cloze
