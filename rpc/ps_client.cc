#include "rpc/ps_client.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include "absl/strings/str_cat.h"
#include "rpc/parameter_chunks.h"

namespace cloze {
namespace {

absl::Status FromGrpc(const grpc::Status& status, int server, const std::string& address, const char* call) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat("parameter server ", server, " (", address, ") ", call, ": ", status.error_message()));
}

}  // namespace

float ClipCoefficient(double global_norm, double max_grad_norm) {
  if (!std::isfinite(global_norm) || max_grad_norm <= 0 || !(global_norm > max_grad_norm)) return 1.0f;
  return static_cast<float>(max_grad_norm / global_norm);
}

absl::StatusOr<std::unique_ptr<ParameterServerClient>> ParameterServerClient::Connect(
    const std::vector<std::string>& addresses, const GrpcSecurity& security, const ParameterLayout& layout,
    int worker_rank, int world_size, absl::Duration connect_timeout) {
  if (world_size < 1 || worker_rank < 0 || worker_rank >= world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("worker rank ", worker_rank, " is not in [0, ", world_size, ") (the world size)"));
  }
  if (absl::Status status = ValidateServerCount(layout, static_cast<int>(addresses.size())); !status.ok()) {
    return status;
  }
  std::unique_ptr<ParameterServerClient> client(new ParameterServerClient());
  client->security_ = security;
  client->total_size_ = layout.total_size;
  client->worker_rank_ = worker_rank;
  const std::vector<std::pair<int, int>> partition = PartitionTensors(layout, static_cast<int>(addresses.size()));
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(kMaxParameterMessageBytes);
  arguments.SetMaxSendMessageSize(kMaxParameterMessageBytes);
  const auto deadline = std::chrono::system_clock::now() + absl::ToChronoMilliseconds(connect_timeout);
  for (size_t s = 0; s < addresses.size(); ++s) {
    std::shared_ptr<grpc::Channel> channel =
        grpc::CreateCustomChannel(addresses[s], MakeChannelCredentials(security), arguments);
    if (!channel->WaitForConnected(deadline)) {
      return absl::UnavailableError(absl::StrCat("parameter server ", s, " (", addresses[s],
                                                 ") did not accept a connection within ",
                                                 absl::FormatDuration(connect_timeout)));
    }
    client->servers_.push_back({addresses[s], FloatRangeOf(layout, partition[s]), ParameterService::NewStub(channel)});
  }
  return client;
}

absl::Status ParameterServerClient::ForEachServer(const std::function<absl::Status(int server)>& call) {
  std::vector<absl::Status> statuses(servers_.size());
  std::vector<std::thread> threads;
  for (int s = 1; s < num_servers(); ++s) threads.emplace_back([&, s] { statuses[s] = call(s); });
  statuses[0] = call(0);  // server 0 on the caller's thread
  for (std::thread& thread : threads) thread.join();
  for (const absl::Status& status : statuses) {
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

absl::Status ParameterServerClient::CheckSize(size_t size, const char* what) const {
  if (static_cast<int64_t>(size) != total_size_) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", size, " floats, the model has ", total_size_));
  }
  return absl::OkStatus();
}

void ParameterServerClient::NewContext(grpc::ClientContext& context) const { AttachJobToken(context, security_); }

// Streams floats [range) of `values` as chunks of `prototype` (its other fields set).
template <typename Writer>
static bool WriteChunks(Writer& writer, ParameterChunk& chunk, std::span<const float> values) {
  const int64_t size = static_cast<int64_t>(values.size());
  int64_t offset = 0;
  do {
    const int64_t count = std::min(kMaxChunkFloats, size - offset);
    chunk.set_offset(offset);
    SetFloatBytes(values.subspan(offset, count), chunk.mutable_values());
    if (!writer.Write(chunk)) return false;
    // Only the first chunk carries these.
    chunk.clear_statistics();
    chunk.clear_range_begin();
    chunk.clear_range_size();
    offset += count;
  } while (offset < size);
  return true;
}

absl::Status ParameterServerClient::InitializeParameters(std::span<const float> parameters) {
  if (absl::Status status = CheckSize(parameters.size(), "initial parameters"); !status.ok()) return status;
  return ForEachServer([&](int s) {
    const Server& server = servers_[s];
    grpc::ClientContext context;
    NewContext(context);
    InitResponse response;
    std::unique_ptr<grpc::ClientWriter<ParameterChunk>> writer = server.stub->Init(&context, &response);
    ParameterChunk chunk;
    chunk.set_worker_rank(worker_rank_);
    chunk.set_range_begin(server.range.begin);
    chunk.set_range_size(server.range.size);
    if (WriteChunks(*writer, chunk, parameters.subspan(server.range.begin, server.range.size))) writer->WritesDone();
    return FromGrpc(writer->Finish(), s, server.address, "Init");
  });
}

absl::StatusOr<ParameterServerClient::PushResult> ParameterServerClient::Push(int64_t step,
                                                                              std::span<const float> gradients,
                                                                              std::span<const double> statistics) {
  if (absl::Status status = CheckSize(gradients.size(), "gradients"); !status.ok()) return status;
  std::vector<PushResponse> responses(servers_.size());
  const absl::Status status = ForEachServer([&](int s) {
    const Server& server = servers_[s];
    grpc::ClientContext context;
    NewContext(context);
    std::unique_ptr<grpc::ClientWriter<ParameterChunk>> writer = server.stub->Push(&context, &responses[s]);
    ParameterChunk chunk;
    chunk.set_worker_rank(worker_rank_);
    chunk.set_step(step);
    chunk.set_range_begin(server.range.begin);
    chunk.set_range_size(server.range.size);
    chunk.mutable_statistics()->Add(statistics.begin(), statistics.end());
    if (WriteChunks(*writer, chunk, gradients.subspan(server.range.begin, server.range.size))) writer->WritesDone();
    return FromGrpc(writer->Finish(), s, server.address, absl::StrCat("Push of step ", step).c_str());
  });
  if (!status.ok()) return status;
  PushResult result;
  for (const PushResponse& response : responses) result.gradient_norm_squared += response.gradient_norm_squared();
  result.statistics.assign(responses[0].statistics().begin(), responses[0].statistics().end());
  return result;
}

absl::Status ParameterServerClient::PullServer(int s, const PullRequest& prototype, std::span<float> parameters,
                                               int64_t* completed_steps) {
  const Server& server = servers_[s];
  PullRequest request = prototype;
  request.set_range_begin(server.range.begin);
  request.set_range_size(server.range.size);
  grpc::ClientContext context;
  NewContext(context);
  std::unique_ptr<grpc::ClientReader<ParameterChunk>> reader = server.stub->Pull(&context, request);
  float* destination = parameters.data() + server.range.begin;
  int64_t received = 0;
  ParameterChunk chunk;
  absl::Status protocol;
  while (reader->Read(&chunk)) {
    const int64_t count = static_cast<int64_t>(chunk.values().size() / sizeof(float));
    if (!protocol.ok()) continue;  // drain, then report
    if (chunk.offset() != received || chunk.values().size() % sizeof(float) != 0 ||
        count > server.range.size - received) {
      protocol = absl::DataLossError(absl::StrCat("parameter server ", s, " (", server.address,
                                                  ") Pull: a chunk of ", chunk.values().size(), " bytes at float ",
                                                  chunk.offset(), " does not continue [0, ", received, ") of ",
                                                  server.range.size));
      context.TryCancel();
      continue;
    }
    CopyFloatBytes(chunk.values(), destination + received);
    received += count;
    if (completed_steps != nullptr && s == 0) *completed_steps = chunk.step();
  }
  const grpc::Status status = reader->Finish();
  if (!protocol.ok()) return protocol;
  if (absl::Status st = FromGrpc(status, s, server.address, absl::StrCat("Pull of step ", request.step()).c_str());
      !st.ok()) {
    return st;
  }
  if (received != server.range.size) {
    return absl::DataLossError(absl::StrCat("parameter server ", s, " (", server.address, ") Pull: ", received,
                                            " floats of ", server.range.size));
  }
  return absl::OkStatus();
}

absl::Status ParameterServerClient::FetchParameters(std::span<float> parameters, int64_t* completed_steps) {
  if (absl::Status status = CheckSize(parameters.size(), "parameters"); !status.ok()) return status;
  PullRequest request;
  request.set_worker_rank(worker_rank_);
  return ForEachServer([&](int s) { return PullServer(s, request, parameters, completed_steps); });
}

absl::Status ParameterServerClient::ApplyAndPull(int64_t step, float learning_rate, float clip_coefficient,
                                                 bool accept, std::span<float> parameters, int64_t rollback_to) {
  if (absl::Status status = CheckSize(parameters.size(), "parameters"); !status.ok()) return status;
  PullRequest request;
  request.set_worker_rank(worker_rank_);
  request.set_step(step);
  request.mutable_update()->set_learning_rate(learning_rate);
  request.mutable_update()->set_clip_coefficient(clip_coefficient);
  request.mutable_update()->set_accept(accept);
  if (rollback_to >= 0) request.mutable_update()->mutable_rollback()->set_checkpoint_step(rollback_to);
  return ForEachServer([&](int s) { return PullServer(s, request, parameters, nullptr); });
}

}  // namespace cloze
