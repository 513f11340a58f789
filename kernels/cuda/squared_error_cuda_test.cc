// The CUDA squared error (the regression head's loss) against its CPU twin on fresh random
// data, targets included. Skips, with the reason, where CUDA code is not built or no usable
// GPU is present.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/squared_error.h"
#include "kernels/cuda/squared_error.h"
#include "kernels/cuda/testing/cuda_test_support.h"

namespace cloze::cuda {
namespace {

using testing::Compare;
using testing::DeviceBuffer;
using testing::Gaussian;

// fp32 limits. Forward is one subtraction and one product, as the CPU: equal but for an FMA
// the compiler may form, so 1e-6 relative (floor 1e-30: small losses count fully); a wrong
// sign or a missing square errs by O(1). Backward adds 2·diff·scale into O(1) values: the
// same bound (floor 1), where a lost or doubled update errs by O(scale).
constexpr double kLossLimit = 1e-6;
constexpr double kGradLimit = 1e-6;

// One element, a partial block, a block and one, and many blocks.
const int64_t kSizes[] = {1, 7, 257, 100003};

class SquaredErrorCudaTest : public ::testing::TestWithParam<int64_t> {
 protected:
  void SetUp() override { CLOZE_SKIP_WITHOUT_GPU(); }
};

TEST_P(SquaredErrorCudaTest, ForwardMatchesCpu) {
  const int64_t n = GetParam();
  std::mt19937_64 rng(700 + n);
  const std::vector<float> predictions = Gaussian(rng, n, 2.0f), targets = Gaussian(rng, n, 2.0f);
  std::vector<float> want(n);
  cpu::squared_error_forward(want.data(), predictions.data(), targets.data(), n);

  DeviceBuffer<float> d_predictions(predictions), d_targets(targets), d_losses(n);
  d_losses.Poison();
  CLOZE_IF_CUDA_BUILT(squared_error_forward(d_losses.get(), d_predictions.get(), d_targets.get(), n));
  EXPECT_EQ(Compare(d_losses.Download(), want, kLossLimit, 1e-30), "");
}

// Backward ADDS: dpredictions starts from the same random values on both sides.
TEST_P(SquaredErrorCudaTest, BackwardAccumulatesLikeCpu) {
  const int64_t n = GetParam();
  std::mt19937_64 rng(800 + n);
  const std::vector<float> predictions = Gaussian(rng, n, 2.0f), targets = Gaussian(rng, n, 2.0f);
  const std::vector<float> prior = Gaussian(rng, n);
  std::vector<float> want = prior;
  const float scale = 1.0f / 3.0f;
  cpu::squared_error_backward(want.data(), predictions.data(), targets.data(), n, scale);

  DeviceBuffer<float> d_predictions(predictions), d_targets(targets), d_grad(prior);
  CLOZE_IF_CUDA_BUILT(squared_error_backward(d_grad.get(), d_predictions.get(), d_targets.get(), n, scale));
  // An overwrite instead of an add errs by the prior, O(1).
  EXPECT_EQ(Compare(d_grad.Download(), want, kGradLimit, 1.0), "");
}

INSTANTIATE_TEST_SUITE_P(Sizes, SquaredErrorCudaTest, ::testing::ValuesIn(kSizes),
                         [](const ::testing::TestParamInfo<int64_t>& info) { return std::to_string(info.param); });

}  // namespace
}  // namespace cloze::cuda
