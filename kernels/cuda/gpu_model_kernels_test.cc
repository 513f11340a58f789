// gpu_model_kernels.h's ops against their CPU twins (kernels/cpu/activations.h, a host
// column sum, std::max_element) on random data, outputs poisoned with NaN first. Skips
// where CUDA is not built or no GPU is usable.
#include "kernels/cuda/gpu_model_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/activations.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/device_array.h"

namespace cloze::gpu {
namespace {

class GpuModelKernelsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const cuda::DeviceStatus usable = cuda::gpu_usable();
    if (!usable.ok()) GTEST_SKIP() << "no usable GPU: " << usable.error;
  }
};

[[maybe_unused]] std::vector<float> Random(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

template <typename T>
[[maybe_unused]] DeviceArray<T> OnDevice(const std::vector<T>& host) {
  DeviceArray<T> d;
  EXPECT_TRUE(d.Resize(host.size(), "test").ok());
  EXPECT_TRUE(d.Upload(host, "test").ok());
  return d;
}

template <typename T>
[[maybe_unused]] std::vector<T> ToHost(const DeviceArray<T>& d) {
  std::vector<T> host(d.size());
  EXPECT_TRUE(cuda::device_synchronize().ok());
  EXPECT_TRUE(d.Download(host, "test").ok());
  return host;
}

[[maybe_unused]] double WorstRelative(const std::vector<float>& got, const std::vector<float>& want) {
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = std::fabs(double(got[i]) - want[i]) / (std::fabs(double(want[i])) + 1e-6);
    if (std::isnan(err)) err = INFINITY;
    worst = std::max(worst, err);
  }
  return worst;
}

TEST_F(GpuModelKernelsTest, ActivationsMatchTheCpu) {
#ifdef CLOZE_CUDA_BUILT
  const int64_t n = 100003;
  const std::vector<float> x = Random(n, 1), dout = Random(n, 2), base = Random(n, 3);
  const std::vector<float> nan(n, std::numeric_limits<float>::quiet_NaN());
  DeviceArray<float> d_x = OnDevice(x), d_dout = OnDevice(dout), d_out = OnDevice(nan);
  std::vector<float> want(n);

  cpu::tanh_forward(want.data(), x.data(), n);
  tanh_forward(d_out.get(), d_x.get(), n);
  const std::vector<float> tanh_out = ToHost(d_out);
  EXPECT_LE(WorstRelative(tanh_out, want), 1e-5);
  want = base;
  cpu::tanh_backward(want.data(), tanh_out.data(), dout.data(), n);
  DeviceArray<float> d_y = OnDevice(tanh_out), d_dinp = OnDevice(base);
  tanh_backward(d_dinp.get(), d_y.get(), d_dout.get(), n);
  EXPECT_LE(WorstRelative(ToHost(d_dinp), want), 1e-6);

  cpu::relu_forward(want.data(), x.data(), n);
  d_out = OnDevice(nan);
  relu_forward(d_out.get(), d_x.get(), n);
  EXPECT_EQ(WorstRelative(ToHost(d_out), want), 0.0);
  want = base;
  cpu::relu_backward(want.data(), x.data(), dout.data(), n);
  d_dinp = OnDevice(base);
  relu_backward(d_dinp.get(), d_x.get(), d_dout.get(), n);
  EXPECT_EQ(WorstRelative(ToHost(d_dinp), want), 0.0);
#endif
}

TEST_F(GpuModelKernelsTest, BiasGradientAddsColumnSums) {
#ifdef CLOZE_CUDA_BUILT
  for (auto [n, c] : {std::pair<int64_t, int64_t>{1, 3}, {1000, 2}, {16384 + 5, 768}}) {
    const std::vector<float> dout = Random(n * c, n), base = Random(c, c);
    std::vector<double> want(c);
    for (int64_t j = 0; j < c; ++j) want[j] = base[j];
    for (int64_t r = 0; r < n; ++r) {
      for (int64_t j = 0; j < c; ++j) want[j] += dout[r * c + j];
    }
    DeviceArray<float> d_dout = OnDevice(dout), d_dbias = OnDevice(base), scratch;
    ASSERT_TRUE(scratch.Resize(bias_gradient_scratch_floats(n, c), "scratch").ok());
    bias_gradient(d_dbias.get(), d_dout.get(), n, c, scratch.get());
    const std::vector<float> got = ToHost(d_dbias);
    for (int64_t j = 0; j < c; ++j) {
      // Sums of n unit normals: float error ~ 1e-7 · n relative to √n-sized results.
      ASSERT_NEAR(got[j], want[j], 1e-5 * std::sqrt(double(n)) + 1e-6) << "column " << j << " of " << c;
    }
  }
#endif
}

TEST_F(GpuModelKernelsTest, RowArgmaxIsTheFirstMaximum) {
#ifdef CLOZE_CUDA_BUILT
  const int64_t m = 37, v = 30001;
  std::vector<float> logits = Random(m * v, 4);
  // Ties: row 0 all equal (index 0), row 1 its maximum twice (the first wins).
  std::fill(logits.begin(), logits.begin() + v, 0.5f);
  logits[v + 17] = logits[v + 29000] = 100.0f;
  DeviceArray<float> d_logits = OnDevice(logits);
  DeviceArray<int32_t> d_argmax = OnDevice(std::vector<int32_t>(m, -1));
  row_argmax(d_argmax.get(), d_logits.get(), m, v);
  const std::vector<int32_t> got = ToHost(d_argmax);
  for (int64_t r = 0; r < m; ++r) {
    const float* row = logits.data() + r * v;
    EXPECT_EQ(got[r], std::max_element(row, row + v) - row) << "row " << r;
  }
#endif
}

}  // namespace
}  // namespace cloze::gpu
