// NcclSync on the GPUs of this machine: one rank per visible device, each in its own
// thread (NCCL allows one rank per device per communicator). On one GPU that is a world of
// one, which still runs every NCCL call. Without CUDA or a GPU the device tests skip and
// the Unimplemented path is checked instead.
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cuda/device.h"
#include "worker/nccl_gradient_sync.h"
#include "worker/nccl_ops.h"

namespace cloze {
namespace {

bool GpuPresent() { return cuda::gpu_usable().ok(); }

TEST(NcclGradientSync, UniqueIdIsEmptyOrNcclsSize) {
  std::string id = NewNcclUniqueId();
#ifdef CLOZE_CUDA_BUILT
  // ncclGetUniqueId needs no GPU, only a network interface for its bootstrap socket.
  if (GpuPresent()) {
    EXPECT_EQ(id.size(), 128u);
  }
  if (!id.empty()) {
    EXPECT_EQ(id.size(), 128u);
    EXPECT_NE(id, NewNcclUniqueId());
  }
#else
  EXPECT_EQ(id, "");
#endif
}

// Runs everywhere: the error a worker gets when it asks for NCCL where there is none, or
// for a malformed id where there is.
TEST(NcclGradientSync, RefusesWithoutAGpuOrWithAMalformedId) {
  auto sync = MakeNcclSync(0, 2, std::string(5, 'x'), 0);
  if (GpuPresent()) {
    EXPECT_EQ(sync.status().code(), absl::StatusCode::kInvalidArgument) << sync.status();
    EXPECT_EQ(MakeNcclSync(2, 2, NewNcclUniqueId(), 0).status().code(),
              absl::StatusCode::kInvalidArgument);
  } else {
    EXPECT_EQ(sync.status().code(), absl::StatusCode::kUnimplemented) << sync.status();
  }
}

// Multiples of 1/4 below 2^12: exact sums in any order.
template <typename T>
T ExactValue(int rank, size_t i) {
  return static_cast<T>(static_cast<double>((i * 37 + rank * 101) % 4001) * 0.25 - 250.0 * rank);
}

// What one rank checks; "" when all is well (threads report, the main thread asserts).
template <typename T>
std::string CheckSums(GradientSync& sync, size_t size) {
  std::vector<T> host(size);
  for (size_t i = 0; i < size; ++i) host[i] = ExactValue<T>(sync.rank(), i);
  void* device = nullptr;
  std::string error = cuda::device_alloc(&device, size * sizeof(T)).error;
  if (error.empty()) error = cuda::copy_to_device(device, host.data(), size * sizeof(T)).error;
  absl::Status s = sync.AllReduceSum(std::span<T>(static_cast<T*>(device), size));
  if (error.empty() && !s.ok()) error = s.ToString();
  if (error.empty()) error = cuda::copy_to_host(host.data(), device, size * sizeof(T)).error;
  (void)cuda::device_free(device);
  for (size_t i = 0; error.empty() && i < size; ++i) {
    T want = 0;
    for (int r = 0; r < sync.world_size(); ++r) want += ExactValue<T>(r, i);
    if (host[i] != want) {
      error = "element " + std::to_string(i) + ": " + std::to_string(host[i]) +
              " != " + std::to_string(want);
    }
  }
  return error.empty() ? "" : "rank " + std::to_string(sync.rank()) + ", size " +
                                  std::to_string(size) + ": " + error;
}

std::string CheckBroadcast(GradientSync& sync, size_t size) {
  const int root = sync.world_size() - 1;
  std::vector<char> host(size);
  for (size_t i = 0; i < size; ++i) host[i] = static_cast<char>(i * 7 + sync.rank() * 13);
  void* device = nullptr;
  std::string error = cuda::device_alloc(&device, size).error;
  if (error.empty()) error = cuda::copy_to_device(device, host.data(), size).error;
  absl::Status s = sync.Broadcast(std::span<char>(static_cast<char*>(device), size), root);
  if (error.empty() && !s.ok()) error = s.ToString();
  if (error.empty()) error = cuda::copy_to_host(host.data(), device, size).error;
  (void)cuda::device_free(device);
  for (size_t i = 0; error.empty() && i < size; ++i) {
    if (host[i] != static_cast<char>(i * 7 + root * 13)) error = "byte " + std::to_string(i);
  }
  return error.empty() ? "" : "rank " + std::to_string(sync.rank()) + " broadcast: " + error;
}

TEST(NcclGradientSync, SumsAndBroadcastsOverTheVisibleGpus) {
  if (cuda::DeviceStatus usable = cuda::gpu_usable(); !usable.ok()) GTEST_SKIP() << usable.error;
  const int world_size = std::min(nccl::VisibleDeviceCount(), 8);
  const std::string id = NewNcclUniqueId();
  ASSERT_EQ(id.size(), 128u);
  std::vector<std::string> errors(world_size);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < world_size; ++rank) {
    ranks.emplace_back([&, rank] {
      std::string& error = errors[rank];
      if (nccl::NcclStatus s = nccl::SetCurrentDevice(rank); !s.ok()) {
        error = s.error;  // the others then fail to join and report it too
        return;
      }
      auto sync = MakeNcclSync(rank, world_size, id, 4096);  // 1024 floats, 512 doubles
      if (!sync.ok()) {
        error = sync.status().ToString();
        return;
      }
      for (size_t size : {0, 1, 7, 1024, 3 * 1024 + 5}) {
        if (error.empty()) error = CheckSums<float>(**sync, size);
      }
      for (size_t size : {0, 1, 7, 512, 3 * 512 + 5}) {
        if (error.empty()) error = CheckSums<double>(**sync, size);
      }
      for (size_t size : {0, 1, 4096, 3 * 4096 + 7}) {
        if (error.empty()) error = CheckBroadcast(**sync, size);
      }
      if (error.empty()) {
        if (absl::Status s = (*sync)->Barrier(); !s.ok()) error = s.ToString();
      }
      if (error.empty() && (*sync)->Broadcast({}, world_size).code() !=
                               absl::StatusCode::kInvalidArgument) {
        error = "Broadcast from a root outside the world was not refused";
      }
    });
  }
  for (std::thread& t : ranks) t.join();
  for (int rank = 0; rank < world_size; ++rank) EXPECT_EQ(errors[rank], "") << "rank " << rank;
}

}  // namespace
}  // namespace cloze
