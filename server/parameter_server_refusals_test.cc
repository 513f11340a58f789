// What a parameter server refuses, through real gRPC on 127.0.0.1, and that it keeps
// serving after each: calls without or with a wrong job token, oversized and malformed
// messages, chunks at wrong offsets, short streams, unknown workers, wrong steps.
#include <memory>
#include <string>

#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "proto/parameter_server.grpc.pb.h"
#include "rpc/parameter_chunks.h"
#include "server/ps_testing.h"
#include "rpc/ps_client.h"

namespace cloze {
namespace {

class RefusalsTest : public testing::Test {
 protected:
  void SetUp() override {
    config_.layout = PsTestLayout();
    config_.optimizer = TestOptimizer(OptimizerConfig::LAMB, 1.0f);
    config_.workers = 1;
    servers_ = StartTestServers(config_, 1);
    ASSERT_EQ(servers_.servers.size(), 1u);
    ASSERT_TRUE(servers_.servers[0]->InitializeFrom(RandomFloats(1, config_.layout.total_size, 0.02f)).ok());
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(kMaxParameterMessageBytes);
    channel_ = grpc::CreateCustomChannel(servers_.addresses[0], grpc::InsecureChannelCredentials(), arguments);
    stub_ = ParameterService::NewStub(channel_);
    range_ = servers_.servers[0]->shard().range();
  }

  // A push of `chunks` (first chunk's range fields filled in unless already set).
  grpc::Status PushChunks(std::vector<ParameterChunk> chunks, const std::string& token = TestSecurity().job_token) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata(kJobTokenMetadataKey, token);
    PushResponse response;
    std::unique_ptr<grpc::ClientWriter<ParameterChunk>> writer = stub_->Push(&context, &response);
    if (!chunks.empty() && chunks[0].range_size() == 0) {
      chunks[0].set_range_begin(range_.begin);
      chunks[0].set_range_size(range_.size);
    }
    for (const ParameterChunk& chunk : chunks) {
      if (!writer->Write(chunk)) break;
    }
    writer->WritesDone();
    return writer->Finish();
  }

  ParameterChunk Chunk(int64_t offset, int64_t floats, int64_t step = 0, int rank = 0) {
    ParameterChunk chunk;
    chunk.set_worker_rank(rank);
    chunk.set_step(step);
    chunk.set_offset(offset);
    chunk.mutable_values()->assign(floats * sizeof(float), '\0');
    return chunk;
  }

  // Still serving: a whole step through the real client.
  void ExpectServing() {
    absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
        ParameterServerClient::Connect(servers_.addresses, TestSecurity(), config_.layout, 0, 1);
    ASSERT_TRUE(client.ok()) << client.status();
    const int64_t step = servers_.servers[0]->shard().completed_steps();
    const std::vector<float> gradient = RandomFloats(step, config_.layout.total_size, 0.01f);
    absl::StatusOr<ParameterServerClient::PushResult> pushed = (*client)->Push(step, gradient, {});
    ASSERT_TRUE(pushed.ok()) << pushed.status();
    std::vector<float> parameters(config_.layout.total_size);
    const absl::Status pulled = (*client)->ApplyAndPull(step, 0.001f, 1.0f, true, parameters);
    ASSERT_TRUE(pulled.ok()) << pulled;
  }

  static void ExpectRefused(const grpc::Status& status, grpc::StatusCode code, const std::string& mention) {
    EXPECT_EQ(status.error_code(), code) << status.error_message();
    EXPECT_NE(status.error_message().find(mention), std::string::npos) << status.error_message();
  }

  ShardConfig config_;
  TestServers servers_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ParameterService::Stub> stub_;
  FloatRange range_;
};

TEST_F(RefusalsTest, MissingOrWrongTokenIsUnauthenticated) {
  ExpectRefused(PushChunks({Chunk(0, range_.size)}, ""), grpc::StatusCode::UNAUTHENTICATED, "no job token");
  ExpectRefused(PushChunks({Chunk(0, range_.size)}, "not-the-token-of-this-job"), grpc::StatusCode::UNAUTHENTICATED,
                "wrong job token");
  for (const std::string token : {"", "wrong-token-wrong-token"}) {
    grpc::ClientContext context;
    if (!token.empty()) context.AddMetadata(kJobTokenMetadataKey, token);
    PullRequest request;
    std::unique_ptr<grpc::ClientReader<ParameterChunk>> reader = stub_->Pull(&context, request);
    ParameterChunk chunk;
    EXPECT_FALSE(reader->Read(&chunk));
    EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // A client with the wrong token gets nothing either.
  GrpcSecurity wrong = TestSecurity();
  wrong.job_token = "someone-elses-job-token";
  absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
      ParameterServerClient::Connect(servers_.addresses, wrong, config_.layout, 0, 1);
  ASSERT_TRUE(client.ok());
  std::vector<float> parameters(config_.layout.total_size);
  EXPECT_TRUE(absl::IsUnauthenticated((*client)->FetchParameters(parameters)));
  ExpectServing();
}

TEST_F(RefusalsTest, OversizedMessageIsRefused) {
  ParameterChunk huge = Chunk(0, kMaxChunkFloats + 64 * 1024);  // 4.25 MiB of values
  const grpc::Status status = PushChunks({huge});
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  ExpectServing();
}

TEST_F(RefusalsTest, MalformedMessagesAreRefused) {
  grpc::GenericStub generic(channel_);
  const std::string garbage = "\xff\xff\xff\xff this is not a protocol buffer \x0a\xff";
  for (const char* method : {"/cloze.ParameterService/Pull", "/cloze.ParameterService/Push",
                             "/cloze.ParameterService/Init"}) {
    grpc::ClientContext context;
    context.AddMetadata(kJobTokenMetadataKey, TestSecurity().job_token);
    grpc::Slice slice(garbage);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::CompletionQueue queue;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
        generic.PrepareUnaryCall(&context, method, request, &queue);
    call->StartCall();
    grpc::Status status;
    call->Finish(&response, &status, reinterpret_cast<void*>(1));
    void* tag = nullptr;
    bool ok = false;
    ASSERT_TRUE(queue.Next(&tag, &ok));
    EXPECT_FALSE(status.ok()) << method;
    EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE) << method << ": " << status.error_message();
    queue.Shutdown();
    while (queue.Next(&tag, &ok)) {
    }
  }
  ExpectServing();
}

TEST_F(RefusalsTest, BadChunksAreInvalidArguments) {
  const int64_t half = range_.size / 2;
  // Not where the previous chunk ended: a gap, an overlap, a start past the range.
  ExpectRefused(PushChunks({Chunk(0, half), Chunk(half + 1, range_.size - half - 1)}),
                grpc::StatusCode::INVALID_ARGUMENT, "offset");
  ExpectRefused(PushChunks({Chunk(0, half), Chunk(half - 1, range_.size - half + 1)}),
                grpc::StatusCode::INVALID_ARGUMENT, "offset");
  ExpectRefused(PushChunks({Chunk(range_.size + 10, 1)}), grpc::StatusCode::INVALID_ARGUMENT, "offset");
  // Running past the range, ending short, not whole floats.
  ExpectRefused(PushChunks({Chunk(0, range_.size + 1)}), grpc::StatusCode::INVALID_ARGUMENT, "values");
  ExpectRefused(PushChunks({Chunk(0, half)}), grpc::StatusCode::INVALID_ARGUMENT, "values");
  ParameterChunk ragged = Chunk(0, range_.size);
  ragged.mutable_values()->push_back('x');
  ExpectRefused(PushChunks({ragged}), grpc::StatusCode::INVALID_ARGUMENT, "values");
  // Another partition of the model, an unknown worker, a step out of turn, a change of
  // worker mid-stream, too many statistics, an empty stream.
  ParameterChunk elsewhere = Chunk(0, range_.size);
  elsewhere.set_range_begin(range_.begin + 1);
  elsewhere.set_range_size(range_.size);
  ExpectRefused(PushChunks({elsewhere}), grpc::StatusCode::INVALID_ARGUMENT, "range_begin");
  ExpectRefused(PushChunks({Chunk(0, range_.size, 0, 3)}), grpc::StatusCode::INVALID_ARGUMENT, "worker_rank");
  ExpectRefused(PushChunks({Chunk(0, range_.size, 7)}), grpc::StatusCode::INVALID_ARGUMENT, "step");
  ExpectRefused(PushChunks({Chunk(0, half), Chunk(half, range_.size - half, 1)}),
                grpc::StatusCode::INVALID_ARGUMENT, "worker_rank/step");
  ParameterChunk chatty = Chunk(0, range_.size);
  for (int i = 0; i <= kMaxStatistics; ++i) chatty.add_statistics(i);
  ExpectRefused(PushChunks({chatty}), grpc::StatusCode::INVALID_ARGUMENT, "statistics");
  ExpectRefused(PushChunks({}), grpc::StatusCode::INVALID_ARGUMENT, "empty stream");
  // Pulls: a step the server is not at, a worker it does not know.
  for (const auto& [rank, step, mention] :
       std::vector<std::tuple<int, int64_t, std::string>>{{0, 5, "step"}, {-1, 0, "worker_rank"}}) {
    grpc::ClientContext context;
    context.AddMetadata(kJobTokenMetadataKey, TestSecurity().job_token);
    PullRequest request;
    request.set_worker_rank(rank);
    request.set_step(step);
    request.set_range_begin(range_.begin);
    request.set_range_size(range_.size);
    request.mutable_update()->set_learning_rate(0.1f);
    std::unique_ptr<grpc::ClientReader<ParameterChunk>> reader = stub_->Pull(&context, request);
    ParameterChunk chunk;
    while (reader->Read(&chunk)) {
    }
    ExpectRefused(reader->Finish(), grpc::StatusCode::INVALID_ARGUMENT, mention);
  }
  // Non-finite gradients are the guard's business, not the server's.
  std::vector<ParameterChunk> nan_chunks = {Chunk(0, range_.size)};
  const float nan = std::nanf("");
  std::memcpy(nan_chunks[0].mutable_values()->data(), &nan, sizeof(float));
  EXPECT_TRUE(PushChunks(nan_chunks).ok());
  {
    // The step is in; skip it as the guard would, through the client.
    absl::StatusOr<std::unique_ptr<ParameterServerClient>> client =
        ParameterServerClient::Connect(servers_.addresses, TestSecurity(), config_.layout, 0, 1);
    ASSERT_TRUE(client.ok());
    std::vector<float> parameters(config_.layout.total_size);
    ASSERT_TRUE((*client)->ApplyAndPull(0, 0.001f, 1.0f, /*accept=*/false, parameters).ok());
    for (float p : parameters) ASSERT_TRUE(std::isfinite(p));
  }
  ExpectServing();
}

TEST_F(RefusalsTest, HealthServiceAnswers) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  grpc::ByteBuffer request(nullptr, 0), response;  // HealthCheckRequest{service: ""}
  grpc::CompletionQueue queue;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      generic.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &queue);
  call->StartCall();
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(queue.Next(&tag, &ok));
  ASSERT_TRUE(status.ok()) << status.error_message();
  grpc::Slice slice;
  ASSERT_TRUE(response.TrySingleSlice(&slice).ok());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(slice.begin()), slice.size()), std::string("\x08\x01"))
      << "HealthCheckResponse{status: SERVING}";
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
}

}  // namespace
}  // namespace cloze
