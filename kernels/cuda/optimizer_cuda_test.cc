// The fused CUDA LAMB and AdamW against kernels/cpu/optimizer.h (the CPU optimizer the trainer
// runs), and the CUDA global-norm clip against kernels/cpu/clip.h, over several steps of fresh
// random gradients. Skips, with the reason, where CUDA code is not built or no usable GPU
// is present.
#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cuda/clip.h"
#include "kernels/cuda/optimizer.h"
#include "kernels/cuda/testing/cuda_test_support.h"
#include "proto/train_config.pb.h"
#include "kernels/cpu/clip.h"
#include "kernels/cpu/optimizer.h"
#include "kernels/parameter_layout.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::DeviceBuffer;
using testing::Gaussian;

// fp32 limits. Every per-element operation is rounded as the CPU rounds it, so AdamW is
// expected bitwise equal; LAMB's trust ratios come from double norms summed in another
// order (~1e-16 apart), which may move a step size by one float ulp. 1e-6 relative
// (floor 1e-30) allows a few ulp and nothing more; a wrong formula errs by >1e-3.
constexpr double kStateLimit = 1e-6;

// Tensors of every kind: empty, smaller than a warp, several 32768-element blocks with a
// partial last one, decayed or not.
ParameterLayout TestLayout() {
  ParameterLayout layout;
  const std::pair<int64_t, bool> sizes[] = {{1000, true}, {7, false},   {0, true},
                                            {70001, true}, {33, false}, {65537, false},
                                            {4096, true}};
  for (const auto& [size, decayed] : sizes) {
    NamedTensor t;
    t.name = "t" + std::to_string(layout.tensors.size());
    t.shape = {size};
    t.offset = layout.total_size;
    t.size = size;
    t.weight_decay = decayed;
    layout.tensors.push_back(t);
    layout.total_size += size;
  }
  return layout;
}

[[maybe_unused]] std::vector<OptimizerTensor> TensorsOf(const ParameterLayout& layout) {
  std::vector<OptimizerTensor> tensors;
  for (const NamedTensor& t : layout.tensors) tensors.push_back({t.offset, t.size, t.weight_decay});
  return tensors;
}

class OptimizerCudaTest : public ::testing::TestWithParam<OptimizerConfig::Kind> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

TEST_P(OptimizerCudaTest, StepsMatchTheCpuOptimizer) {
  OptimizerConfig config;
  config.set_kind(GetParam());
  config.set_learning_rate(1e-3f);
  config.set_beta1(0.9f);
  config.set_beta2(0.999f);
  config.set_epsilon(1e-6f);
  config.set_weight_decay(0.01f);
  config.set_max_grad_norm(1.0f);
  const ParameterLayout layout = TestLayout();
  const int64_t n = layout.total_size;
  Optimizer cpu(config, layout);
  [[maybe_unused]] const OptimizerHyperparameters h{config.beta1(), config.beta2(), config.epsilon(),
                                   config.weight_decay()};

  std::mt19937_64 rng(2200 + GetParam());
  std::vector<float> params = Gaussian(rng, n, 0.05f);
  DeviceBuffer<float> d_params(params), d_grads(n), d_m(std::vector<float>(n, 0.0f)),
      d_v(std::vector<float>(n, 0.0f));
  std::unique_ptr<FusedOptimizer> gpu;
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus s = FusedOptimizer::Create(TensorsOf(layout), n, &gpu);
    ASSERT_TRUE(s.ok()) << s.error;
  });
  const float learning_rates[] = {1e-3f, 5e-4f, 2e-3f};
  for (int step = 0; step < 3; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const std::vector<float> grads = Gaussian(rng, n, 0.01f);
    d_grads.Upload(grads);
    [[maybe_unused]] const int64_t completed = cpu.step_count();
    cpu.Step(params, grads, learning_rates[step]);
    CLOZE_IF_CUDA_BUILT({
      if (GetParam() == OptimizerConfig::LAMB) {
        gpu->LambStep(d_params.get(), d_grads.get(), d_m.get(), d_v.get(), h,
                      learning_rates[step]);
      } else {
        gpu->AdamWStep(d_params.get(), d_grads.get(), d_m.get(), d_v.get(), h,
                       learning_rates[step], completed);
      }
    });
    const std::vector<float> m(cpu.exp_avg().begin(), cpu.exp_avg().end());
    const std::vector<float> v(cpu.exp_avg_sq().begin(), cpu.exp_avg_sq().end());
    ASSERT_EQ(Compare(d_params.Download(), params, kStateLimit, 1e-30), "") << "params";
    ASSERT_EQ(Compare(d_m.Download(), m, kStateLimit, 1e-30), "") << "exp_avg";
    ASSERT_EQ(Compare(d_v.Download(), v, kStateLimit, 1e-30), "") << "exp_avg_sq";
  }
}

INSTANTIATE_TEST_SUITE_P(Kinds, OptimizerCudaTest,
                         ::testing::Values(OptimizerConfig::LAMB, OptimizerConfig::ADAMW),
                         [](const ::testing::TestParamInfo<OptimizerConfig::Kind>& info) {
                           return OptimizerConfig::Kind_Name(info.param);
                         });

class FusedOptimizerTableTest : public ::testing::Test {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

TEST_F(FusedOptimizerTableTest, RejectsTensorsThatDoNotTileTheBuffer) {
  std::unique_ptr<FusedOptimizer> gpu;
  CLOZE_IF_CUDA_BUILT({
    EXPECT_FALSE(FusedOptimizer::Create({{0, 10, true}, {11, 5, false}}, 16, &gpu).ok());
    EXPECT_FALSE(FusedOptimizer::Create({{0, 10, true}}, 11, &gpu).ok());
    EXPECT_EQ(gpu, nullptr);
  });
}

class ClipCudaTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

// Norms: both sides sum in double over the same blocks, so they agree to ~1e-16; 1e-12 is
// generous and still catches a float accumulation (1e-7). Scaled gradients: the same
// float factor times the same floats, so equal up to that factor's last bit (1e-7).
TEST_P(ClipCudaTest, NormAndScalingMatchCpu) {
  const int64_t n = GetParam();
  std::mt19937_64 rng(2300 + n);
  const std::vector<float> grads = Gaussian(rng, n);
  DeviceBuffer<float> d_grads(grads);
  DeviceBuffer<double> d_scratch(global_norm_scratch_doubles(n));
  std::vector<float> want = grads;
  const double max_norm = std::sqrt(double(n)) / 2;  // below the norm (~sqrt(n)): clips
  const ClipResult cpu = ClipGradientsByGlobalNorm(want, max_norm);
  ASSERT_TRUE(cpu.clipped);
  ClipOutcome gpu;
  CLOZE_IF_CUDA_BUILT({
    DeviceStatus s =
        clip_gradients_by_global_norm(&gpu, d_grads.get(), n, max_norm, d_scratch.get());
    ASSERT_TRUE(s.ok()) << s.error;
  });
  EXPECT_NEAR(gpu.norm, cpu.norm, 1e-12 * cpu.norm);
  EXPECT_TRUE(gpu.finite);
  EXPECT_TRUE(gpu.clipped);
  EXPECT_EQ(Compare(d_grads.Download(), want, 1e-7, 1e-30), "");
}

// Under max_norm nothing changes; a NaN gradient gives a non-finite norm and no scaling.
TEST_P(ClipCudaTest, LeavesSmallOrNonFiniteGradientsAlone) {
  const int64_t n = GetParam();
  std::mt19937_64 rng(2400 + n);
  std::vector<float> grads = Gaussian(rng, n);
  DeviceBuffer<float> d_grads(grads);
  DeviceBuffer<double> d_scratch(global_norm_scratch_doubles(n));
  CLOZE_IF_CUDA_BUILT({
    ClipOutcome gpu;
    DeviceStatus s = clip_gradients_by_global_norm(&gpu, d_grads.get(), n, 10.0 * std::sqrt(n) + 10,
                                                   d_scratch.get());
    ASSERT_TRUE(s.ok()) << s.error;
    EXPECT_FALSE(gpu.clipped);
    EXPECT_EQ(Compare(d_grads.Download(), grads, 0.0, 1.0), "");

    grads[n / 2] = NAN;
    d_grads.Upload(grads);
    s = clip_gradients_by_global_norm(&gpu, d_grads.get(), n, 1.0, d_scratch.get());
    ASSERT_TRUE(s.ok()) << s.error;
    EXPECT_FALSE(gpu.finite);
    EXPECT_FALSE(gpu.clipped);
  });
}

INSTANTIATE_TEST_SUITE_P(Sizes, ClipCudaTest, ::testing::Values(1, 100001, (1 << 20) + 3));

}  // namespace
}  // namespace cloze::cuda
