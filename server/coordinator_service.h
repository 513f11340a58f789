// The Coordinator gRPC service over a JobCoordinator: the job token first, then the call, with
// absl::Status turned into grpc::Status (same codes, same messages).
#ifndef CLOZE_SERVER_COORDINATOR_SERVICE_H_
#define CLOZE_SERVER_COORDINATOR_SERVICE_H_

#include "proto/coordinator.grpc.pb.h"
#include "server/coordinator.h"
#include "rpc/job_auth.h"

namespace cloze {

// Neither argument is owned; both must outlive the service. Thread-safe as the JobCoordinator.
class CoordinatorService final : public Coordinator::Service {
 public:
  CoordinatorService(JobCoordinator* coordinator, const GrpcSecurity* security)
      : coordinator_(coordinator), security_(security) {}

  grpc::Status Register(grpc::ServerContext* context, const RegisterRequest* request,
                        RegisterResponse* response) override;
  grpc::Status Heartbeat(grpc::ServerContext* context, const HeartbeatRequest* request,
                         HeartbeatResponse* response) override;
  grpc::Status Rendezvous(grpc::ServerContext* context, const RendezvousRequest* request,
                          RendezvousResponse* response) override;
  grpc::Status ReportCheckpointPart(grpc::ServerContext* context, const CheckpointPartReport* request,
                                    CheckpointPartAck* response) override;
  grpc::Status WaitForCheckpoint(grpc::ServerContext* context, const WaitForCheckpointRequest* request,
                                 WaitForCheckpointResponse* response) override;
  grpc::Status Finish(grpc::ServerContext* context, const FinishRequest* request, FinishResponse* response) override;
  grpc::Status GetJobStatus(grpc::ServerContext* context, const JobStatusRequest* request,
                            JobStatus* response) override;

 private:
  JobCoordinator* const coordinator_;
  const GrpcSecurity* const security_;
};

}  // namespace cloze

#endif  // CLOZE_SERVER_COORDINATOR_SERVICE_H_
