// Clipping and both optimizers give bitwise identical results for 1, 2 and 3 OpenMP
// threads (the trainer's exact resume depends on it). The layout has tensors spanning
// several blocks, single-element and empty tensors, and sizes that no thread count
// divides evenly.
#include <omp.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/clip.h"
#include "trainer/optimizer.h"

namespace cloze {
namespace {

ParameterLayout Layout() {
  struct Spec {
    const char* name;
    int64_t size;
    bool decayed;
  };
  const Spec specs[] = {{"embeddings.weight", 100003, true}, {"LayerNorm.weight", 129, false},
                        {"absent.weight", 0, true},          {"dense.bias", 1, false},
                        {"dense.weight", 65536, true},       {"head.weight", 33000, true}};
  ParameterLayout layout;
  for (const Spec& s : specs) {
    layout.tensors.push_back({s.name, {s.size}, layout.total_size, s.size, s.decayed});
    layout.total_size += s.size;
  }
  return layout;
}

// Deterministic values with a wide spread of magnitudes, so that summation order
// would show in the last bits.
std::vector<float> Values(int64_t n, uint64_t seed, float scale) {
  std::vector<float> values(n);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double unit = static_cast<double>(state >> 11) * 0x1.0p-53;  // [0, 1)
    values[i] = static_cast<float>(scale * (unit - 0.5) * std::exp(8 * unit - 4));
  }
  return values;
}

struct Outcome {
  std::vector<double> norms;
  std::vector<float> params, exp_avg, exp_avg_sq;
};

Outcome Train(OptimizerConfig::Kind kind, int threads) {
  omp_set_num_threads(threads);
  const ParameterLayout layout = Layout();
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
  outcome.params = Values(layout.total_size, 1, 0.1f);
  for (int step = 0; step < 4; ++step) {
    std::vector<float> grads = Values(layout.total_size, 100 + step, step % 2 ? 1e-4f : 10.0f);
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
  const std::vector<float> values = Values(1000003, 7, 3.0f);
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
