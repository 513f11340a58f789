// DeviceAllReduceExchange over NCCL on this machine's GPUs (one rank per GPU, each in its
// own thread, at most 2; on one GPU a world of one, which still runs every NCCL call):
// host statistics come back summed through the device scratch, including calls of
// different sizes (the scratch grows), and device gradients are summed in place.
// Everywhere: host gradients are refused, and without a GPU the statistics fail with an
// error rather than a crash. Tagged "gpu" for bench/gpu/run_gpu_checks.sh.
#include <algorithm>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/gpu_select.h"
#include "worker/device_all_reduce_exchange.h"
#include "worker/nccl_gradient_sync.h"

namespace cloze {
namespace {

TEST(DeviceAllReduceExchange, RefusesHostGradients) {
  std::unique_ptr<GradientSync> sync = MakeSingleProcessSync();
  DeviceAllReduceExchange exchange(*sync);
  EXPECT_TRUE(exchange.reduces_device_gradients());
  std::vector<float> host(4, 1.0f);
  EXPECT_EQ(exchange.ReduceGradients(0, host).status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DeviceAllReduceExchange, StatisticsFailCleanlyWithoutAGpu) {
  // Not GTEST_SKIP: run_gpu_checks.sh treats any skip on the GPU machine as a failure.
  if (cuda::gpu_usable().ok()) return;
  std::unique_ptr<GradientSync> sync = MakeSingleProcessSync();
  DeviceAllReduceExchange exchange(*sync);
  std::vector<double> statistics = {1, 2, 3};
  EXPECT_FALSE(exchange.SumStatistics(statistics).ok());
}

// One rank's checks; "" when all is well (threads report, the main thread asserts).
std::string CheckRank(int rank, int world_size, const std::string& id) {
  if (std::string error = SelectGpu(rank); !error.empty()) return error;
  absl::StatusOr<std::unique_ptr<GradientSync>> sync = MakeNcclSync(rank, world_size, id, 0);
  if (!sync.ok()) return sync.status().ToString();
  DeviceAllReduceExchange exchange(**sync);
  for (size_t size : {2, 6, 2}) {  // the trainer's two calls per step
    std::vector<double> statistics(size);
    for (size_t i = 0; i < size; ++i) statistics[i] = 0.5 * i + rank;
    if (absl::Status s = exchange.SumStatistics(statistics); !s.ok()) return s.ToString();
    for (size_t i = 0; i < size; ++i) {
      const double want = world_size * 0.5 * i + world_size * (world_size - 1) / 2.0;
      if (statistics[i] != want) return "statistic " + std::to_string(i) + ": " + std::to_string(statistics[i]);
    }
  }
  const size_t n = 1000;
  std::vector<float> host(n);
  for (size_t i = 0; i < n; ++i) host[i] = static_cast<float>(i % 17) + rank;
  void* device = nullptr;
  std::string error = cuda::device_alloc(&device, n * sizeof(float)).error;
  if (error.empty()) error = cuda::copy_to_device(device, host.data(), n * sizeof(float)).error;
  if (error.empty()) {
    absl::Status s = exchange.SumDeviceGradients(0, std::span<float>(static_cast<float*>(device), n));
    if (!s.ok()) error = s.ToString();
  }
  if (error.empty()) error = cuda::copy_to_host(host.data(), device, n * sizeof(float)).error;
  (void)cuda::device_free(device);
  for (size_t i = 0; error.empty() && i < n; ++i) {
    const float want = world_size * static_cast<float>(i % 17) + world_size * (world_size - 1) / 2.0f;
    if (host[i] != want) error = "gradient " + std::to_string(i) + ": " + std::to_string(host[i]);
  }
  return error;
}

TEST(DeviceAllReduceExchange, SumsOverTheVisibleGpus) {
  if (cuda::DeviceStatus usable = cuda::gpu_usable(); !usable.ok()) GTEST_SKIP() << usable.error;
  int world_size = 1;
  while (world_size < 2 && SelectGpu(world_size).empty()) ++world_size;
  const std::string id = NewNcclUniqueId();
  ASSERT_EQ(id.size(), 128u);
  std::vector<std::string> errors(world_size);
  std::vector<std::thread> ranks;
  for (int rank = 0; rank < world_size; ++rank) {
    ranks.emplace_back([&, rank] { errors[rank] = CheckRank(rank, world_size, id); });
  }
  for (std::thread& t : ranks) t.join();
  for (int rank = 0; rank < world_size; ++rank) EXPECT_EQ(errors[rank], "") << "rank " << rank;
}

}  // namespace
}  // namespace cloze
