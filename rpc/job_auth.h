// What every gRPC service of a job (coordinator, parameter servers) shares for security:
// the job token, checked on every call, and TLS when certificates are given.
//
// The token is a shared secret the launcher writes to a file readable only by the job's
// user; clients send it in the metadata key kJobTokenMetadataKey. Without TLS it travels in
// clear text: fine on a private cluster network, not across an untrusted one.
#ifndef CLOZE_RPC_JOB_AUTH_H_
#define CLOZE_RPC_JOB_AUTH_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace cloze {

inline constexpr char kJobTokenMetadataKey[] = "x-cloze-job-token";

struct GrpcSecurity {
  std::string job_token;  // never empty once loaded
  // Server side: certificate chain and private key (PEM). Both or neither.
  std::string tls_cert_pem, tls_key_pem;
  // Client side: the CA that signed the servers' certificates (PEM); empty: no TLS.
  std::string tls_ca_pem;
};

// Reads the token file (its first line, whitespace trimmed; at least 16 characters) and the
// optional PEM files. Errors name the file and what is wrong with it.
absl::StatusOr<GrpcSecurity> LoadGrpcSecurity(const std::string& job_token_file, const std::string& tls_cert_file = "",
                                              const std::string& tls_key_file = "",
                                              const std::string& tls_ca_file = "");

// TLS when a certificate and key are set, else insecure (the token still checked).
std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const GrpcSecurity& security);
// TLS when a CA is set, else insecure.
std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const GrpcSecurity& security);

// Server side, first thing in every handler: UNAUTHENTICATED unless the call carries the
// job's token (compared in constant time; the message never echoes what was sent).
grpc::Status CheckJobToken(const grpc::ServerContext& context, const GrpcSecurity& security);
// Client side: adds the token to a call's metadata.
void AttachJobToken(grpc::ClientContext& context, const GrpcSecurity& security);

// A random token: 32 bytes from the OS, hex-encoded.
absl::StatusOr<std::string> NewJobToken();

}  // namespace cloze

#endif  // CLOZE_RPC_JOB_AUTH_H_
