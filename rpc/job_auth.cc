#include "rpc/job_auth.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "openssl/crypto.h"
#include "openssl/rand.h"

namespace cloze {
namespace {

absl::StatusOr<std::string> ReadWholeFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot read the ", what));
  std::ostringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return absl::DataLossError(absl::StrCat(path, ": error reading the ", what));
  return text.str();
}

}  // namespace

absl::StatusOr<GrpcSecurity> LoadGrpcSecurity(const std::string& job_token_file, const std::string& tls_cert_file,
                                              const std::string& tls_key_file, const std::string& tls_ca_file) {
  GrpcSecurity security;
  if (job_token_file.empty()) return absl::InvalidArgumentError("--job_token_file is required");
  absl::StatusOr<std::string> token = ReadWholeFile(job_token_file, "job token");
  if (!token.ok()) return token.status();
  const std::string first_line = token->substr(0, token->find('\n'));
  security.job_token = std::string(absl::StripAsciiWhitespace(first_line));
  if (security.job_token.size() < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat(job_token_file, ": the job token must be at least 16 characters (it has ", security.job_token.size(), ")"));
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return absl::InvalidArgumentError("--tls_cert and --tls_key go together: give both or neither");
  }
  if (!tls_cert_file.empty()) {
    absl::StatusOr<std::string> cert = ReadWholeFile(tls_cert_file, "TLS certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadWholeFile(tls_key_file, "TLS private key");
    if (!key.ok()) return key.status();
    security.tls_cert_pem = *cert;
    security.tls_key_pem = *key;
  }
  if (!tls_ca_file.empty()) {
    absl::StatusOr<std::string> ca = ReadWholeFile(tls_ca_file, "TLS CA certificate");
    if (!ca.ok()) return ca.status();
    security.tls_ca_pem = *ca;
  }
  return security;
}

std::shared_ptr<grpc::ServerCredentials> MakeServerCredentials(const GrpcSecurity& security) {
  if (security.tls_cert_pem.empty()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back({security.tls_key_pem, security.tls_cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> MakeChannelCredentials(const GrpcSecurity& security) {
  if (security.tls_ca_pem.empty()) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = security.tls_ca_pem;
  return grpc::SslCredentials(options);
}

grpc::Status CheckJobToken(const grpc::ServerContext& context, const GrpcSecurity& security) {
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find(kJobTokenMetadataKey);
  if (found == metadata.end()) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no job token: this service belongs to a cloze job");
  }
  const grpc::string_ref sent = found->second;
  const std::string& expected = security.job_token;
  if (sent.size() != expected.size() || CRYPTO_memcmp(sent.data(), expected.data(), expected.size()) != 0) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "wrong job token");
  }
  return grpc::Status::OK;
}

void AttachJobToken(grpc::ClientContext& context, const GrpcSecurity& security) {
  context.AddMetadata(kJobTokenMetadataKey, security.job_token);
}

absl::StatusOr<std::string> NewJobToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return absl::InternalError("no random bytes from OpenSSL for the job token");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 15];
  }
  return token;
}

}  // namespace cloze
