#include "kernels/cpu/optimizer.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"

namespace cloze {
namespace {

// ALBERT's exclude_from_weight_decay = ["LayerNorm", "layer_norm", "bias"] (re.search).
bool AlbertExcludes(const std::string& name) {
  for (const char* pattern : {"LayerNorm", "layer_norm", "bias"}) {
    if (name.find(pattern) != std::string::npos) return true;
  }
  return false;
}

struct TensorSpec {
  std::string name;
  int64_t size;
};

ParameterLayout Layout(const std::vector<TensorSpec>& specs) {
  ParameterLayout layout;
  for (const TensorSpec& s : specs) {
    layout.tensors.push_back({s.name, {s.size}, layout.total_size, s.size, !AlbertExcludes(s.name)});
    layout.total_size += s.size;
  }
  return layout;
}

OptimizerConfig Config(OptimizerConfig::Kind kind) {
  OptimizerConfig config;
  config.set_kind(kind);
  config.set_learning_rate(1e-3f);
  config.set_beta1(0.9f);
  config.set_beta2(0.999f);
  config.set_epsilon(1e-6f);
  config.set_weight_decay(0.01f);
  config.set_max_grad_norm(1.0f);
  return config;
}

constexpr OptimizerConfig::Kind kKinds[] = {OptimizerConfig::LAMB, OptimizerConfig::ADAMW};

std::vector<float> Ramp(int64_t n, float scale, float offset) {
  std::vector<float> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = scale * std::sin(0.7f * i + offset);
  return values;
}

TEST(Optimizer, ModelLayoutsExcludeLayerNormsAndBiasesFromDecayAsAlbert) {
  for (const char* path : {"tests/golden/albert_golden.textproto", "tests/golden/bert_golden.textproto"}) {
    absl::StatusOr<ModelConfig> config = LoadModelConfig(path);
    ASSERT_TRUE(config.ok()) << config.status();
    const ParameterLayout layout = BuildParameterLayout(*config);
    int decayed = 0;
    for (const NamedTensor& t : layout.tensors) {
      EXPECT_EQ(t.weight_decay, !AlbertExcludes(t.name)) << t.name;
      decayed += t.weight_decay;
    }
    EXPECT_GT(decayed, 0);
    EXPECT_LT(decayed, static_cast<int>(layout.tensors.size()));
  }
}

TEST(Optimizer, InvalidConfigsNameTheField) {
  struct Case {
    void (*edit)(OptimizerConfig&);
    const char* field;
  };
  const Case cases[] = {
      {[](OptimizerConfig& c) { c.set_kind(static_cast<OptimizerConfig::Kind>(7)); }, "kind"},
      {[](OptimizerConfig& c) { c.set_learning_rate(0); }, "learning_rate"},
      {[](OptimizerConfig& c) { c.set_learning_rate(NAN); }, "learning_rate"},
      {[](OptimizerConfig& c) { c.set_beta1(1.0f); }, "beta1"},
      {[](OptimizerConfig& c) { c.set_beta2(-0.1f); }, "beta2"},
      {[](OptimizerConfig& c) { c.set_epsilon(0); }, "epsilon"},
      {[](OptimizerConfig& c) { c.set_weight_decay(-0.01f); }, "weight_decay"},
      {[](OptimizerConfig& c) { c.set_max_grad_norm(INFINITY); }, "max_grad_norm"},
  };
  EXPECT_TRUE(ValidateOptimizerConfig(Config(OptimizerConfig::LAMB)).ok());
  for (const Case& c : cases) {
    OptimizerConfig config = Config(OptimizerConfig::ADAMW);
    c.edit(config);
    const absl::Status status = ValidateOptimizerConfig(config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find(std::string("OptimizerConfig.") + c.field), std::string::npos)
        << status;
  }
}

// With a zero gradient the moments stay zero, so only weight decay moves parameters:
// decayed tensors shrink, layer norms and biases stay exactly as they were.
TEST(Optimizer, ZeroGradientOnlyDecaysDecayedTensors) {
  const ParameterLayout layout = Layout({{"dense.weight", 6}, {"dense.bias", 3}, {"LayerNorm.weight", 4}});
  const float lr = 0.1f;
  for (const OptimizerConfig::Kind kind : kKinds) {
    Optimizer optimizer(Config(kind), layout);
    const std::vector<float> initial = Ramp(layout.total_size, 0.5f, 0.3f);
    std::vector<float> params = initial;
    const std::vector<float> grads(layout.total_size, 0.0f);
    optimizer.Step(params, grads, lr);
    for (int64_t i = 0; i < 6; ++i) {
      // AdamW: p·(1 − lr·wd). LAMB: u = wd·p, ratio ‖p‖/‖wd·p‖ = 1/wd, so p·(1 − lr).
      const float expected = kind == OptimizerConfig::ADAMW ? initial[i] * (1 - lr * 0.01f)
                                                            : initial[i] * (1 - lr);
      EXPECT_NEAR(params[i], expected, 1e-6f * std::fabs(initial[i])) << kind << " " << i;
    }
    for (int64_t i = 6; i < layout.total_size; ++i) EXPECT_EQ(params[i], initial[i]) << kind << " " << i;
  }
}

// ALBERT's tf.where: a zero parameter tensor (or a zero update) has trust ratio 1.
TEST(Optimizer, LambTrustRatioIsOneForZeroTensors) {
  const ParameterLayout layout = Layout({{"zero.weight", 5}, {"still.weight", 3}, {"other.weight", 4}});
  const OptimizerConfig config = Config(OptimizerConfig::LAMB);
  Optimizer optimizer(config, layout);
  std::vector<float> params(layout.total_size, 0.0f);
  std::vector<float> grads = Ramp(layout.total_size, 0.2f, 1.0f);
  for (int64_t i = 5; i < 8; ++i) grads[i] = 0;  // still.weight: zero parameters, zero gradient
  for (int64_t i = 8; i < 12; ++i) params[i] = 0.5f + 0.1f * i;
  const std::vector<float> other_before(params.begin() + 8, params.end());
  const float lr = 0.01f;
  optimizer.Step(params, grads, lr);
  const float c1 = static_cast<float>(1.0 - 0.9f), c2 = static_cast<float>(1.0 - 0.999f);
  for (int64_t i = 0; i < 5; ++i) {
    const float m = c1 * grads[i], v = c2 * (grads[i] * grads[i]);
    const float u = m / (std::sqrt(v) + 1e-6f);  // + wd·p = 0
    EXPECT_FLOAT_EQ(params[i], -lr * u) << i;     // ratio 1: a plain Adam-style step
  }
  for (int64_t i = 5; i < 8; ++i) EXPECT_EQ(params[i], 0.0f) << i;  // no NaN from 0/0
  // A non-zero tensor moves by exactly lr·‖p‖ (the trust ratio rescales the update).
  double moved = 0, norm = 0;
  for (int64_t i = 8; i < 12; ++i) {
    moved += std::pow(double(params[i]) - other_before[i - 8], 2);
    norm += std::pow(double(other_before[i - 8]), 2);
  }
  EXPECT_NEAR(std::sqrt(moved), lr * std::sqrt(norm), 1e-6 * std::sqrt(norm));
}

// torch.optim.AdamW's bias correction makes the first step ≈ lr·sign(g) (BERT's
// uncorrected AdamWeightDecayOptimizer would move ≈ 3.16·lr).
TEST(Optimizer, AdamWFirstStepIsBiasCorrected) {
  const ParameterLayout layout = Layout({{"x.bias", 4}});
  Optimizer optimizer(Config(OptimizerConfig::ADAMW), layout);
  std::vector<float> params = {1.0f, 2.0f, -1.0f, 0.0f};
  const std::vector<float> grads = {0.5f, -0.25f, 3.0f, 1e-3f};
  optimizer.Step(params, grads, 0.01f);
  EXPECT_NEAR(params[0], 1.0f - 0.01f, 1e-6f);
  EXPECT_NEAR(params[1], 2.0f + 0.01f, 1e-6f);
  EXPECT_NEAR(params[2], -1.0f - 0.01f, 1e-6f);
  EXPECT_NEAR(params[3], -0.01f * (1e-3f / (1e-3f + 1e-6f)), 1e-7f);
  EXPECT_EQ(optimizer.step_count(), 1);
}

// Saving the state (both moments and the step count) and restoring it into a fresh
// optimizer continues bit for bit.
TEST(Optimizer, RestoredStateContinuesBitwiseIdentically) {
  const ParameterLayout layout = Layout({{"a.weight", 70000}, {"a.bias", 17}, {"b.weight", 300}});
  for (const OptimizerConfig::Kind kind : kKinds) {
    Optimizer original(Config(kind), layout);
    std::vector<float> params = Ramp(layout.total_size, 0.05f, 0.0f);
    for (int step = 0; step < 3; ++step) {
      original.Step(params, Ramp(layout.total_size, 0.1f, step + 1.0f), 1e-3f);
    }
    // The checkpoint.
    const std::vector<float> saved_params = params;
    const std::vector<float> m(original.exp_avg().begin(), original.exp_avg().end());
    const std::vector<float> v(original.exp_avg_sq().begin(), original.exp_avg_sq().end());
    const int64_t steps = original.step_count();
    ASSERT_EQ(steps, 3);

    Optimizer resumed(Config(kind), layout);
    ASSERT_TRUE(resumed.Restore(m, v, steps).ok());
    std::vector<float> resumed_params = saved_params;
    for (int step = 3; step < 5; ++step) {
      const std::vector<float> grads = Ramp(layout.total_size, 0.1f, step + 1.0f);
      original.Step(params, grads, 1e-3f);
      resumed.Step(resumed_params, grads, 1e-3f);
    }
    EXPECT_EQ(resumed_params, params) << kind;
    EXPECT_TRUE(std::equal(resumed.exp_avg().begin(), resumed.exp_avg().end(),
                           original.exp_avg().begin()));
    EXPECT_TRUE(std::equal(resumed.exp_avg_sq().begin(), resumed.exp_avg_sq().end(),
                           original.exp_avg_sq().begin()));
    EXPECT_EQ(resumed.step_count(), 5);

    // AdamW's bias correction depends on the step count: losing it changes the result.
    if (kind == OptimizerConfig::ADAMW) {
      Optimizer forgetful(Config(kind), layout);
      ASSERT_TRUE(forgetful.Restore(m, v, 0).ok());
      std::vector<float> forgetful_params = saved_params;
      forgetful.Step(forgetful_params, Ramp(layout.total_size, 0.1f, 4.0f), 1e-3f);
      EXPECT_NE(forgetful_params, saved_params);
      Optimizer reference(Config(kind), layout);
      ASSERT_TRUE(reference.Restore(m, v, 3).ok());
      std::vector<float> reference_params = saved_params;
      reference.Step(reference_params, Ramp(layout.total_size, 0.1f, 4.0f), 1e-3f);
      EXPECT_NE(forgetful_params, reference_params);
    }
  }
}

TEST(Optimizer, RestoreRejectsMismatchedState) {
  const ParameterLayout layout = Layout({{"a.weight", 10}});
  Optimizer optimizer(Config(OptimizerConfig::LAMB), layout);
  const std::vector<float> right(10, 1.0f), wrong(9, 1.0f);
  EXPECT_EQ(optimizer.Restore(wrong, right, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(optimizer.Restore(right, wrong, 1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(optimizer.Restore(right, right, -1).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(optimizer.step_count(), 0);
  EXPECT_EQ(optimizer.exp_avg()[0], 0.0f);  // unchanged by the failed calls
  ASSERT_TRUE(optimizer.Restore(right, right, 7).ok());
  EXPECT_EQ(optimizer.step_count(), 7);
  EXPECT_EQ(optimizer.exp_avg_sq()[9], 1.0f);
}

TEST(OptimizerDeathTest, MisuseAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");  // earlier tests started OpenMP threads
  const ParameterLayout layout = Layout({{"a.weight", 10}});
  std::vector<float> params(10), short_grads(9);
  EXPECT_DEATH(
      {
        Optimizer optimizer(Config(OptimizerConfig::ADAMW), layout);
        optimizer.Step(params, short_grads, 1e-3f);
      },
      "grads size");
  ParameterLayout gap = layout;
  gap.tensors[0].offset = 1;
  EXPECT_DEATH({ Optimizer optimizer(Config(OptimizerConfig::LAMB), gap); }, "tile");
  OptimizerConfig invalid = Config(OptimizerConfig::LAMB);
  invalid.set_epsilon(0);
  EXPECT_DEATH({ Optimizer optimizer(invalid, layout); }, "epsilon");
}

}  // namespace
}  // namespace cloze
