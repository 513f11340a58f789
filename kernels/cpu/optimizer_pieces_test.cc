// Optimizer::StepTensors over pieces of the layout (in any order) plus FinishStep is
// bitwise Optimizer::Step, with the gradient scale applied as clip.h scales gradients:
// the parameter servers rely on it to stream tensors as soon as they are updated. The
// layout has tensors spanning several blocks, single-element and empty tensors.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/optimizer.h"
#include "kernels/cpu/optimizer_testing.h"

namespace cloze {
namespace {

using testing::OptimizerTestLayout;
using testing::WideRangeValues;

OptimizerConfig Config(OptimizerConfig::Kind kind) {
  OptimizerConfig config;
  config.set_kind(kind);
  config.set_learning_rate(1e-2f);
  config.set_beta1(0.9f);
  config.set_beta2(0.999f);
  config.set_epsilon(1e-6f);
  config.set_weight_decay(0.01f);
  config.set_max_grad_norm(1.0f);
  return config;
}

bool BitwiseEqual(std::span<const float> a, std::span<const float> b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Three steps both ways; `pieces` are the [first, end) tensor ranges of each step.
void ExpectPiecesMatchStep(OptimizerConfig::Kind kind, const std::vector<std::pair<int, int>>& pieces) {
  const ParameterLayout layout = OptimizerTestLayout();
  Optimizer whole(Config(kind), layout), pieced(Config(kind), layout);
  std::vector<float> whole_params = WideRangeValues(layout.total_size, 1, 0.1f);
  std::vector<float> pieced_params = whole_params;
  for (int step = 0; step < 3; ++step) {
    const std::vector<float> grads = WideRangeValues(layout.total_size, 100 + step, step % 2 ? 1e-4f : 10.0f);
    const float scale = step == 1 ? 1.0f : 0.0371f;  // 1: not clipped
    std::vector<float> scaled = grads;
    for (float& g : scaled) g *= scale;  // as ClipGradientsByGlobalNorm
    const float learning_rate = 1e-2f / (step + 1);
    whole.Step(whole_params, scaled, learning_rate);
    for (const auto& [first, end] : pieces) pieced.StepTensors(pieced_params, grads, scale, learning_rate, first, end);
    pieced.FinishStep();
    ASSERT_EQ(pieced.step_count(), whole.step_count());
    ASSERT_TRUE(BitwiseEqual(pieced_params, whole_params)) << "parameters differ after step " << step;
    ASSERT_TRUE(BitwiseEqual(pieced.exp_avg(), whole.exp_avg())) << "exp_avg differs after step " << step;
    ASSERT_TRUE(BitwiseEqual(pieced.exp_avg_sq(), whole.exp_avg_sq())) << "exp_avg_sq differs after step " << step;
  }
}

const std::vector<std::pair<int, int>> kOneByOne = {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}};
const std::vector<std::pair<int, int>> kShuffledGroups = {{4, 6}, {0, 1}, {2, 2}, {1, 4}};

TEST(OptimizerPieces, LambTensorByTensorIsBitwiseStep) { ExpectPiecesMatchStep(OptimizerConfig::LAMB, kOneByOne); }
TEST(OptimizerPieces, LambGroupsInAnyOrderAreBitwiseStep) {
  ExpectPiecesMatchStep(OptimizerConfig::LAMB, kShuffledGroups);
}
TEST(OptimizerPieces, AdamWTensorByTensorIsBitwiseStep) { ExpectPiecesMatchStep(OptimizerConfig::ADAMW, kOneByOne); }
TEST(OptimizerPieces, AdamWGroupsInAnyOrderAreBitwiseStep) {
  ExpectPiecesMatchStep(OptimizerConfig::ADAMW, kShuffledGroups);
}

}  // namespace
}  // namespace cloze
