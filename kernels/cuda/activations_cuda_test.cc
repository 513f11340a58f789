// Each CUDA GELU op against its CPU twin (kernels/cpu, the oracle) on fresh random data.
//
// Skips, with the reason, where CUDA code is not built (--config=cpu, no toolkit) or no
// usable GPU is present; the comparison helper itself is tested everywhere, so a broken
// checker cannot hide behind a skip.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/activations.h"
#include "kernels/cuda/activations.h"
#include "kernels/cuda/device.h"

namespace cloze::cuda {
namespace {

using Forward = void (*)(float*, const float*, int64_t);
using Backward = void (*)(float*, const float*, const float*, int64_t);

// BUILD defines CLOZE_CUDA_BUILT through if_cuda(); without it the CUDA ops are not linked
// (and gpu_usable() fails, so the tests that would call them skip).
#ifdef CLOZE_CUDA_BUILT
#define CUDA_OP(name) &cloze::cuda::name
#else
#define CUDA_OP(name) nullptr
#endif

// Error of `got` against `want`, relative with a unit floor: |got - want| / (|want| + 1).
// Near GELU's zeros (x ≪ 0, where 1 + erf(x/√2) cancels) float results carry only an
// absolute error of a few ulp of 1, so a pure relative error would be meaningless there.
double ScaledError(float got, float want) {
  return std::fabs(double(got) - double(want)) / (std::fabs(double(want)) + 1.0);
}

// "" when every got[i] is within `limit` of want[i]; otherwise the worst element.
// A NaN anywhere (an unwritten, still-poisoned element) fails.
std::string Compare(const std::vector<float>& got, const std::vector<float>& want,
                    const std::vector<float>& x, double limit) {
  if (got.size() != want.size()) return "size mismatch";
  double worst = -1;
  size_t worst_i = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double err = ScaledError(got[i], want[i]);
    if (std::isnan(err)) err = std::numeric_limits<double>::infinity();
    if (err > worst) worst = err, worst_i = i;
  }
  if (worst <= limit) return "";
  char text[200];
  std::snprintf(text, sizeof(text),
                "element %zu of %zu: x=%.9g cuda=%.9g cpu=%.9g, error %.3g > %.3g", worst_i,
                got.size(), x[worst_i], got[worst_i], want[worst_i], worst, limit);
  return text;
}

TEST(CompareTest, CatchesDriftAndPoison) {
  const std::vector<float> x = {0, 1, 2}, want = {0.f, 1.f, 2.f};
  EXPECT_EQ(Compare(want, want, x, 0), "");
  EXPECT_NE(Compare({0.f, 1.0001f, 2.f}, want, x, 1e-5), "");
  EXPECT_NE(Compare({0.f, NAN, 2.f}, want, x, 1e-5), "");
  EXPECT_NE(Compare({NAN, NAN, NAN}, {NAN, NAN, NAN}, x, 1e-5), "");
}

// Inputs: a few fixed points (zero, the saturated tails where tanh and erf round to ±1)
// first, then normal with σ = 3 to cover both curved regions and the tails.
std::vector<float> RandomInputs(std::mt19937_64& rng, int64_t n) {
  const float fixed[] = {0.f, -0.f, 1e-4f, -1e-4f, 1.f, -1.f, 3.f, -3.f, 6.f, -6.f, 12.f, -12.f};
  std::normal_distribution<float> normal(0.f, 3.f);
  std::vector<float> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = i < int64_t(std::size(fixed)) ? fixed[i] : normal(rng);
  return v;
}

std::vector<float> Gaussian(std::mt19937_64& rng, int64_t n) {
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(n);
  for (float& f : v) f = normal(rng);
  return v;
}

// Device memory for a host vector; frees itself. Fails the test on any CUDA error.
class DeviceVector {
 public:
  explicit DeviceVector(size_t n) : bytes_(n * sizeof(float)) {
    DeviceStatus s = device_alloc(&ptr_, bytes_);
    EXPECT_TRUE(s.ok()) << s.error;
  }
  DeviceVector(const DeviceVector&) = delete;
  DeviceVector& operator=(const DeviceVector&) = delete;
  ~DeviceVector() { EXPECT_TRUE(device_free(ptr_).ok()); }
  float* get() { return static_cast<float*>(ptr_); }
  void Upload(const std::vector<float>& host) {
    DeviceStatus s = copy_to_device(ptr_, host.data(), bytes_);
    EXPECT_TRUE(s.ok()) << s.error;
  }
  // Poisons `host` first, so a copy that silently did nothing shows as NaN.
  void Download(std::vector<float>& host) {
    host.assign(bytes_ / sizeof(float), NAN);
    DeviceStatus s = copy_to_host(host.data(), ptr_, bytes_);
    EXPECT_TRUE(s.ok()) << s.error;
  }

 private:
  void* ptr_ = nullptr;
  size_t bytes_;
};

struct OpPair {
  const char* name;
  Forward cpu_forward, cuda_forward;
  Backward cpu_backward, cuda_backward;
  // Largest ScaledError allowed. Measured against double on the CPU, the float CPU ops
  // err by up to 8e-8 (forward), 3e-7 (erf backward) and 1.6e-6 (tanh backward, where
  // 1 - tanh² cancels and is scaled by up to ~10 near |x| = 5). CUDA's erff/tanhf/expf
  // (2 ulp) and FMA contraction err about as much again, so the limits leave 5-10x room
  // over CPU-vs-CUDA noise while a wrong constant or term shows as 1e-5 to 1e-1.
  double forward_limit, backward_limit;
};

const OpPair kOps[] = {
    {"GeluErf", cpu::gelu_erf_forward<float>, CUDA_OP(gelu_erf_forward),
     cpu::gelu_erf_backward<float>, CUDA_OP(gelu_erf_backward), 2e-6, 4e-6},
    {"GeluTanh", cpu::gelu_tanh_forward<float>, CUDA_OP(gelu_tanh_forward),
     cpu::gelu_tanh_backward<float>, CUDA_OP(gelu_tanh_backward), 2e-6, 2e-5},
};

// 1 and 1000 leave partial blocks; (1 << 22) + 5 exceeds the kernels' grid cap, so the
// grid-stride loop takes a second pass.
const int64_t kSizes[] = {1, 1000, (1 << 20) + 3, (1 << 22) + 5};

class ActivationsCudaTest : public ::testing::TestWithParam<OpPair> {
 protected:
  void SetUp() override {
    // Without CUDA code, gpu_usable() says so (device_none.cc).
    DeviceStatus usable = gpu_usable();
    if (!usable.ok()) GTEST_SKIP() << "no usable GPU: " << usable.error;
    std::printf("device: %s\n", device_description().c_str());
  }
};

TEST_P(ActivationsCudaTest, ForwardMatchesCpu) {
  const OpPair& op = GetParam();
  for (int64_t n : kSizes) {
    SCOPED_TRACE("n = " + std::to_string(n));
    std::mt19937_64 rng(1000 + n);
    const std::vector<float> x = RandomInputs(rng, n);
    std::vector<float> want(n, NAN), got;
    op.cpu_forward(want.data(), x.data(), n);

    DeviceVector d_x(n), d_out(n);
    d_x.Upload(x);
    d_out.Upload(std::vector<float>(n, NAN));
    op.cuda_forward(d_out.get(), d_x.get(), n);
    DeviceStatus s = device_synchronize();
    ASSERT_TRUE(s.ok()) << s.error;
    d_out.Download(got);
    EXPECT_EQ(Compare(got, want, x, op.forward_limit), "");
  }
}

// Backward must ADD into dinp: both sides start from the same random gradient, which
// also plays the poison's part (an element the kernel skips keeps the wrong value).
TEST_P(ActivationsCudaTest, BackwardAccumulatesLikeCpu) {
  const OpPair& op = GetParam();
  for (int64_t n : kSizes) {
    SCOPED_TRACE("n = " + std::to_string(n));
    std::mt19937_64 rng(2000 + n);
    const std::vector<float> x = RandomInputs(rng, n);
    const std::vector<float> dout = Gaussian(rng, n), prior = Gaussian(rng, n);
    std::vector<float> want = prior, got;
    op.cpu_backward(want.data(), x.data(), dout.data(), n);

    DeviceVector d_x(n), d_dout(n), d_dinp(n);
    d_x.Upload(x);
    d_dout.Upload(dout);
    d_dinp.Upload(prior);
    op.cuda_backward(d_dinp.get(), d_x.get(), d_dout.get(), n);
    DeviceStatus s = device_synchronize();
    ASSERT_TRUE(s.ok()) << s.error;
    d_dinp.Download(got);
    EXPECT_EQ(Compare(got, want, x, op.backward_limit), "");
  }
}

// The in-place form OVERWRITES the gradient it is given with the gradient through the
// activation: the CPU's gelu_tanh_backward into a zeroed buffer.
TEST(GeluTanhInPlaceCudaTest, OverwritesWithCpuBackwardIntoZeros) {
  DeviceStatus usable = gpu_usable();
  if (!usable.ok()) GTEST_SKIP() << "no usable GPU: " << usable.error;
  void (*in_place)(float*, const float*, int64_t) = CUDA_OP(gelu_tanh_backward_in_place);
  for (int64_t n : kSizes) {
    SCOPED_TRACE("n = " + std::to_string(n));
    std::mt19937_64 rng(3000 + n);
    const std::vector<float> x = RandomInputs(rng, n), dout = Gaussian(rng, n);
    std::vector<float> want(n, 0.0f), got;
    cpu::gelu_tanh_backward(want.data(), x.data(), dout.data(), n);

    DeviceVector d_x(n), d_grad(n);
    d_x.Upload(x);
    d_grad.Upload(dout);
    in_place(d_grad.get(), d_x.get(), n);
    DeviceStatus s = device_synchronize();
    ASSERT_TRUE(s.ok()) << s.error;
    d_grad.Download(got);
    EXPECT_EQ(Compare(got, want, x, 2e-5), "");  // GeluTanh's backward limit above
  }
}

INSTANTIATE_TEST_SUITE_P(Gelu, ActivationsCudaTest, ::testing::ValuesIn(kOps),
                         [](const ::testing::TestParamInfo<OpPair>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace cloze::cuda
