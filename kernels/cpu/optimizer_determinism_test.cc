// Clipping and both optimizers give bitwise identical results for 1, 2 and 3 OpenMP
// threads (the trainer's exact resume depends on it). The layout has tensors spanning
// several blocks, single-element and empty tensors, and sizes that no thread count
// divides evenly.
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/clip.h"
#include "kernels/cpu/optimizer.h"
#include "kernels/cpu/optimizer_testing.h"

namespace cloze {
namespace {

using testing::OptimizerTestLayout;
using testing::WideRangeValues;

struct Outcome {
  std::vector<double> norms;
  std::vector<float> params, exp_avg, exp_avg_sq;
};

Outcome Train(OptimizerConfig::Kind kind, int threads) {
  omp_set_num_threads(threads);
  const ParameterLayout layout = OptimizerTestLayout();
  OptimizerConfig config;
  config.set_kind(kind);
  config.set_learning_rate(1e-2f);
  config.set_beta1(0.9f);
  config.set_beta2(0.999f);
  config.set_epsilon(1e-6f);
  config.set_weight_decay(0.01f);
  config.set_max_grad_norm(1.0f);
  Optimizer optimizer(config, layout);
  Outcome outcome;
  outcome.params = WideRangeValues(layout.total_size, 1, 0.1f);
  for (int step = 0; step < 4; ++step) {
    std::vector<float> grads = WideRangeValues(layout.total_size, 100 + step, step % 2 ? 1e-4f : 10.0f);
    const ClipResult clip = ClipGradientsByGlobalNorm(grads, config.max_grad_norm());
    EXPECT_TRUE(clip.finite);
    outcome.norms.push_back(clip.norm);
    optimizer.Step(outcome.params, grads, 1e-2f / (step + 1));
  }
  outcome.exp_avg.assign(optimizer.exp_avg().begin(), optimizer.exp_avg().end());
  outcome.exp_avg_sq.assign(optimizer.exp_avg_sq().begin(), optimizer.exp_avg_sq().end());
  return outcome;
}

TEST(OptimizerDeterminism, BitwiseIdenticalForAnyThreadCount) {
  const int saved = omp_get_max_threads();
  for (const OptimizerConfig::Kind kind : {OptimizerConfig::LAMB, OptimizerConfig::ADAMW}) {
    const Outcome one = Train(kind, 1);
    for (const int threads : {2, 3}) {
      const Outcome many = Train(kind, threads);
      // EXPECT_EQ on the vectors: exact (bitwise for these non-NaN values).
      EXPECT_EQ(many.norms, one.norms) << kind << ", " << threads << " threads";
      EXPECT_EQ(many.params, one.params) << kind << ", " << threads << " threads";
      EXPECT_EQ(many.exp_avg, one.exp_avg) << kind << ", " << threads << " threads";
      EXPECT_EQ(many.exp_avg_sq, one.exp_avg_sq) << kind << ", " << threads << " threads";
    }
  }
  omp_set_num_threads(saved);
}

TEST(OptimizerDeterminism, GlobalNormIsThreadCountIndependent) {
  const int saved = omp_get_max_threads();
  const std::vector<float> values = WideRangeValues(1000003, 7, 3.0f);
  omp_set_num_threads(1);
  const double one = GlobalNorm(values);
  for (const int threads : {2, 3, 4}) {
    omp_set_num_threads(threads);
    EXPECT_EQ(GlobalNorm(values), one) << threads << " threads";
  }
  omp_set_num_threads(saved);
}

}  // namespace
}  // namespace cloze
