// The coordinator's edge: the job token, malformed and oversized messages, TLS.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "server/coordinator_testing.h"
#include "checkpoint/checkpoint_testing.h"

namespace cloze {
namespace {

std::unique_ptr<Coordinator::Stub> RawStub(int port) {
  return Coordinator::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
}

grpc::Status StatusCall(Coordinator::Stub& stub, const std::string& token) {
  grpc::ClientContext context;
  if (!token.empty()) context.AddMetadata(kJobTokenMetadataKey, token);
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  JobStatus status;
  return stub.GetJobStatus(&context, JobStatusRequest(), &status);
}

TEST(CoordinatorSecurityTest, CallsWithoutTheTokenOrWithAWrongOneAreRefused) {
  auto server = StartTestServer(FreshTestDir("token"), {});
  ASSERT_NE(server, nullptr);
  auto stub = RawStub(server->port());
  EXPECT_EQ(StatusCall(*stub, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(StatusCall(*stub, "wrong-token-0123456789").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext context;  // a long poll, too, checks the token first
  RegisterRequest request;
  request.set_role(WORKER);
  request.set_member_id("m");
  RegisterResponse response;
  EXPECT_EQ(stub->Register(&context, request, &response).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(StatusCall(*stub, kTestJobToken).ok());
}

TEST(CoordinatorSecurityTest, MalformedAndOversizedMessagesAreRefusedAndServingGoesOn) {
  auto server = StartTestServer(FreshTestDir("malformed"), {});
  ASSERT_NE(server, nullptr);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()), grpc::InsecureChannelCredentials());
  grpc::GenericStub generic(channel);
  const auto send_raw = [&](const std::string& bytes) {
    grpc::ClientContext context;
    context.AddMetadata(kJobTokenMetadataKey, kTestJobToken);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    grpc::Status result;
    generic.UnaryCall(&context, "/cloze.Coordinator/Register", grpc::StubOptions(), &request, &response,
                      [&](grpc::Status status) {
                        std::lock_guard<std::mutex> lock(mu);
                        result = status;
                        done = true;
                        cv.notify_one();
                      });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    return result;
  };
  // A field tag of wire type 7 (invalid) followed by garbage: not a RegisterRequest.
  const grpc::Status malformed = send_raw(std::string("\x0f\xff\xff\xff\xff\xff", 6));
  EXPECT_FALSE(malformed.ok());
  EXPECT_NE(malformed.error_code(), grpc::StatusCode::UNAVAILABLE) << malformed.error_message();
  // 2 MiB, over the 1 MiB limit: refused before parsing.
  RendezvousRequest big;
  big.set_member_id("m");
  big.set_key("k");
  big.set_value(std::string(2 << 20, 'x'));
  const grpc::Status oversized = send_raw(big.SerializeAsString());
  EXPECT_EQ(oversized.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << oversized.error_message();
  auto stub = RawStub(server->port());
  EXPECT_TRUE(StatusCall(*stub, kTestJobToken).ok());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CoordinatorSecurityTest, TlsClientsWithTheCaConnectAndInsecureOnesDoNot) {
  const std::string dir = FreshTestDir("tls");
  const std::string command = absl::StrCat(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout ", dir, "/key.pem -out ", dir,
      "/cert.pem 2>/dev/null");
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  CoordinatorServerOptions options = TestServerOptions(dir, {});
  options.security.tls_cert_pem = ReadFile(dir + "/cert.pem");
  options.security.tls_key_pem = ReadFile(dir + "/key.pem");
  absl::StatusOr<std::unique_ptr<CoordinatorServer>> server = CoordinatorServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();

  CoordinatorClientOptions client_options;
  client_options.address = absl::StrCat("127.0.0.1:", (*server)->port());
  client_options.security = TestSecurity();
  client_options.security.tls_ca_pem = options.security.tls_cert_pem;
  client_options.reconnect_window = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> tls_client = CoordinatorClient::Connect(client_options);
  ASSERT_TRUE(tls_client.ok());
  absl::StatusOr<JobStatus> status = (*tls_client)->GetJobStatus();
  EXPECT_TRUE(status.ok()) << status.status();

  client_options.security.tls_ca_pem.clear();
  absl::StatusOr<std::unique_ptr<CoordinatorClient>> plain_client = CoordinatorClient::Connect(client_options);
  ASSERT_TRUE(plain_client.ok());
  EXPECT_FALSE((*plain_client)->GetJobStatus().ok());
}

}  // namespace
}  // namespace cloze
