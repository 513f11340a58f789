#include "server/coordinator_service.h"

#include <chrono>

namespace cloze {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

template <typename T>
grpc::Status Answer(const absl::StatusOr<T>& result, T* response) {
  if (!result.ok()) return ToGrpc(result.status());
  *response = *result;
  return grpc::Status::OK;
}

// The client's deadline (absl::InfiniteFuture() when it set none; the coordinator caps it).
absl::Time DeadlineOf(const grpc::ServerContext& context) {
  const auto left = context.deadline() - std::chrono::system_clock::now();
  if (left > std::chrono::hours(24)) return absl::InfiniteFuture();
  return absl::Now() + absl::FromChrono(std::chrono::duration_cast<std::chrono::microseconds>(left));
}

CancelledFn CancelledOf(grpc::ServerContext* context) {
  return [context] { return context->IsCancelled(); };
}

}  // namespace

grpc::Status CoordinatorService::Register(grpc::ServerContext* context, const RegisterRequest* request,
                                          RegisterResponse* response) {
  if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
  return Answer(coordinator_->Register(*request, DeadlineOf(*context), CancelledOf(context)), response);
}

grpc::Status CoordinatorService::Heartbeat(grpc::ServerContext* context, const HeartbeatRequest* request,
                                           HeartbeatResponse* response) {
  if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
  return Answer(coordinator_->Heartbeat(*request), response);
}

grpc::Status CoordinatorService::Rendezvous(grpc::ServerContext* context, const RendezvousRequest* request,
                                            RendezvousResponse* response) {
  if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
  return Answer(coordinator_->Rendezvous(*request, DeadlineOf(*context), CancelledOf(context)), response);
}

grpc::Status CoordinatorService::ReportCheckpointPart(grpc::ServerContext* context,
                                                      const CheckpointPartReport* request, CheckpointPartAck*) {
  if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
  return ToGrpc(coordinator_->ReportCheckpointPart(*request));
}

grpc::Status CoordinatorService::WaitForCheckpoint(grpc::ServerContext* context,
                                                   const WaitForCheckpointRequest* request,
                                                   WaitForCheckpointResponse* response) {
  if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
  return Answer(coordinator_->WaitForCheckpoint(*request, DeadlineOf(*context), CancelledOf(context)), response);
}

grpc::Status CoordinatorService::Finish(grpc::ServerContext* context, const FinishRequest* request, FinishResponse*) {
  if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
  return ToGrpc(coordinator_->Finish(*request));
}

grpc::Status CoordinatorService::GetJobStatus(grpc::ServerContext* context, const JobStatusRequest*,
                                              JobStatus* response) {
  if (grpc::Status auth = CheckJobToken(*context, *security_); !auth.ok()) return auth;
  *response = coordinator_->GetJobStatus();
  return grpc::Status::OK;
}

}  // namespace cloze
