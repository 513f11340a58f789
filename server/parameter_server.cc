#include "server/parameter_server.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/health_check_service_interface.h"
#include "proto/parameter_server.grpc.pb.h"
#include "rpc/parameter_chunks.h"

namespace cloze {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

grpc::Status Invalid(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

grpc::Status CheckRange(int64_t begin, int64_t size, const FloatRange& range, int server_rank) {
  if (begin != range.begin || size != range.size) {
    return Invalid(absl::StrCat("range_begin/range_size: the client expects floats [", begin, ", ", begin + size,
                                ") on parameter server ", server_rank, ", which owns [", range.begin, ", ",
                                range.begin + range.size, "): the two partition the model differently"));
  }
  return grpc::Status::OK;
}

// Reads the chunks of a stream whose first chunk is `first` into destination[0, size):
// every chunk from the same worker and step, starting where the previous one ended,
// whole floats, within the range, and all of it.
grpc::Status ReceiveFloats(grpc::ServerReader<ParameterChunk>* reader, ParameterChunk& chunk, float* destination,
                           int64_t size, int64_t* bytes_received) {
  const int rank = chunk.worker_rank();
  const int64_t step = chunk.step();
  int64_t received = 0;
  do {
    if (chunk.worker_rank() != rank || chunk.step() != step) {
      return Invalid(absl::StrCat("worker_rank/step: a chunk of worker ", chunk.worker_rank(), " step ", chunk.step(),
                                  " in the stream of worker ", rank, " step ", step));
    }
    if (chunk.offset() != received) {
      return Invalid(absl::StrCat("offset: worker ", rank, " sent a chunk at ", chunk.offset(), "; the next float is ",
                                  received, " (chunks come in order, contiguous)"));
    }
    const std::string& values = chunk.values();
    if (values.size() % sizeof(float) != 0) {
      return Invalid(absl::StrCat("values: worker ", rank, " sent ", values.size(), " bytes, not whole floats"));
    }
    const int64_t count = static_cast<int64_t>(values.size() / sizeof(float));
    if (count > size - received) {
      return Invalid(absl::StrCat("values: worker ", rank, "'s chunk at ", received, " has ", count,
                                  " floats; the range ends at ", size));
    }
    CopyFloatBytes(values, destination + received);
    received += count;
    *bytes_received += static_cast<int64_t>(values.size());
  } while (reader->Read(&chunk));
  if (received != size) {
    return Invalid(absl::StrCat("values: worker ", rank, " sent ", received, " floats; the range has ", size));
  }
  return grpc::Status::OK;
}

}  // namespace

class ParameterServer::Service final : public ParameterService::Service {
 public:
  Service(ParameterShard* shard, ParameterServerMetrics* metrics, const GrpcSecurity* security)
      : shard_(shard), metrics_(metrics), security_(security) {}

  grpc::Status Init(grpc::ServerContext* context, grpc::ServerReader<ParameterChunk>* reader,
                    InitResponse* response) override {
    if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
    ParameterChunk chunk;
    if (!reader->Read(&chunk)) return Invalid("Init: an empty stream");
    const FloatRange range = shard_->range();
    if (grpc::Status s = CheckRange(chunk.range_begin(), chunk.range_size(), range, shard_->server_rank()); !s.ok()) {
      return s;
    }
    absl::StatusOr<float*> buffer = shard_->BeginInit(chunk.worker_rank());
    if (!buffer.ok()) return ToGrpc(buffer.status());
    int64_t bytes = 0;
    const grpc::Status status = ReceiveFloats(reader, chunk, *buffer, range.size, &bytes);
    metrics_->AddInitializedBytes(bytes);
    shard_->FinishInit(status.ok());
    if (status.ok()) response->set_floats_received(range.size);
    return status;
  }

  grpc::Status Push(grpc::ServerContext* context, grpc::ServerReader<ParameterChunk>* reader,
                    PushResponse* response) override {
    if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
    ParameterChunk chunk;
    if (!reader->Read(&chunk)) return Invalid("Push: an empty stream");
    const FloatRange range = shard_->range();
    if (grpc::Status s = CheckRange(chunk.range_begin(), chunk.range_size(), range, shard_->server_rank()); !s.ok()) {
      return s;
    }
    if (chunk.statistics_size() > kMaxStatistics) {
      return Invalid(absl::StrCat("statistics: ", chunk.statistics_size(), " values; at most ", kMaxStatistics));
    }
    const int rank = chunk.worker_rank();
    const int64_t step = chunk.step();
    absl::StatusOr<float*> buffer = shard_->BeginPush(
        rank, step, std::span<const double>(chunk.statistics().data(), chunk.statistics().size()));
    if (!buffer.ok()) return ToGrpc(buffer.status());
    int64_t bytes = 0;
    const grpc::Status status = ReceiveFloats(reader, chunk, *buffer, range.size, &bytes);
    metrics_->AddPushedBytes(bytes);
    if (!status.ok()) {
      shard_->AbortPush(rank);
      return status;
    }
    absl::StatusOr<PushOutcome> outcome = shard_->FinishPush(rank, step, [context] { return context->IsCancelled(); });
    if (!outcome.ok()) return ToGrpc(outcome.status());
    response->set_gradient_norm_squared(outcome->gradient_norm_squared);
    response->mutable_statistics()->Add(outcome->statistics.begin(), outcome->statistics.end());
    return grpc::Status::OK;
  }

  grpc::Status Pull(grpc::ServerContext* context, const PullRequest* request,
                    grpc::ServerWriter<ParameterChunk>* writer) override {
    if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
    if (grpc::Status s = CheckRange(request->range_begin(), request->range_size(), shard_->range(),
                                    shard_->server_rank());
        !s.ok()) {
      return s;
    }
    std::optional<StepUpdateArgs> update;
    if (request->has_update()) {
      update = StepUpdateArgs{request->update().learning_rate(), request->update().clip_coefficient(),
                              request->update().accept(),
                              request->update().has_rollback() ? request->update().rollback().checkpoint_step() : -1};
      if (request->update().has_rollback() && update->rollback_to < 0) {
        return Invalid(absl::StrCat("update.rollback.checkpoint_step: ", update->rollback_to, " is negative"));
      }
    }
    absl::StatusOr<PullView> view = shard_->Pull(request->worker_rank(), request->step(), update,
                                                 [context] { return context->IsCancelled(); });
    if (!view.ok()) return ToGrpc(view.status());
    ParameterChunk chunk;
    chunk.set_worker_rank(request->worker_rank());
    chunk.set_step(view->completed_steps());
    const int64_t size = static_cast<int64_t>(view->values().size());
    int64_t offset = 0;
    do {  // at least one chunk, so that the worker learns completed_steps even for no floats
      const int64_t count = std::min(kMaxChunkFloats, size - offset);
      // Each chunk goes as soon as the update of the step has reached its end.
      if (absl::Status s = view->AwaitValues(offset + count, [context] { return context->IsCancelled(); }); !s.ok()) {
        return ToGrpc(s);
      }
      chunk.set_offset(offset);
      SetFloatBytes(view->values().subspan(offset, count), chunk.mutable_values());
      if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::CANCELLED, "the worker stopped reading");
      metrics_->AddPulledBytes(count * static_cast<int64_t>(sizeof(float)));
      offset += count;
    } while (offset < size);
    return grpc::Status::OK;
  }

 private:
  ParameterShard* const shard_;
  ParameterServerMetrics* const metrics_;
  const GrpcSecurity* const security_;
};

absl::StatusOr<std::unique_ptr<ParameterServer>> ParameterServer::Start(ParameterServerOptions options) {
  if (options.security.job_token.empty()) {
    return absl::InvalidArgumentError("parameter server: the job token must not be empty");
  }
  std::unique_ptr<ParameterServer> server(new ParameterServer());
  server->options_ = std::move(options);
  absl::StatusOr<std::unique_ptr<ParameterShard>> shard = ParameterShard::Create(server->options_.shard);
  if (!shard.ok()) return shard.status();
  server->shard_ = std::move(*shard);
  absl::StatusOr<std::unique_ptr<ParameterServerMetrics>> metrics = ParameterServerMetrics::Start(
      server->shard_.get(), server->options_.metrics_address, server->options_.run_name);
  if (!metrics.ok()) return metrics.status();
  server->metrics_ = std::move(*metrics);
  server->service_ = std::make_unique<Service>(server->shard_.get(), server->metrics_.get(), &server->options_.security);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(server->options_.listen_address, MakeServerCredentials(server->options_.security),
                           &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(kMaxParameterMessageBytes);
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("parameter server: cannot listen on \"", server->options_.listen_address, "\""));
  }
  return server;
}

ParameterServer::~ParameterServer() { Shutdown(); }

absl::StatusOr<std::vector<CheckpointFile>> ParameterServer::WriteCheckpointPart(int64_t step,
                                                                                  const std::string& run_dir) {
  const std::string& dir = run_dir.empty() ? options_.shard.run_dir : run_dir;
  if (dir.empty()) return absl::FailedPreconditionError("parameter server: no run directory to checkpoint into");
  return shard_->WriteCheckpointPart(dir, step);
}

void ParameterServer::Shutdown() {
  // Concurrent callers (a signal thread, the destructor) wait for the first to finish.
  std::call_once(shutdown_once_, [this] {
    if (shard_ != nullptr) shard_->Shutdown();  // waiting handlers return at once
    if (server_ != nullptr) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
    absl::MutexLock lock(&shutdown_mu_);
    shut_down_ = true;
  });
}

void ParameterServer::Wait() {
  absl::MutexLock lock(&shutdown_mu_);
  shutdown_mu_.Await(absl::Condition(&shut_down_));
}

}  // namespace cloze
