// Parity of clipping, the schedule, AdamW and LAMB with independent references on the
// tiny ALBERT of tests/golden: torch.optim.AdamW, and a line-by-line port of ALBERT's
// LAMBOptimizer (testdata/make_optimizer_fixture.py, which documents how the starting
// parameters and each step's gradients derive from the golden fixture).
//
// Both sides run in float32 from the same inputs; after every step each tensor must
// agree within 1e-6 (norm of the difference over the norm of the reference), and so
// must the moments after the last step.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "gtest/gtest.h"
#include "kernels/cpu/clip.h"
#include "model/model_config.h"
#include "kernels/cpu/optimizer.h"
#include "model/parameter_layout.h"
#include "checkpoint/safetensors.h"
#include "trainer/schedule.h"

namespace cloze {
namespace {

constexpr char kFormat[] = "cloze-optimizer-v1";
constexpr double kTolerance = 1e-6;

// The gradient of step k is the golden gradient times kPattern[(i + 3k) % 5] ·
// kStepScale[k]: powers of two, so the product is exact on both sides.
constexpr float kPattern[] = {1.0f, -1.0f, 0.5f, -2.0f, 2.0f};
constexpr float kStepScale[] = {1.0f, 1.0f / 16, 2.0f, 1.0f / 16, 1.0f};

double RelativeError(std::span<const float> actual, std::span<const float> expected) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff += (double(actual[i]) - expected[i]) * (double(actual[i]) - expected[i]);
    norm += double(expected[i]) * expected[i];
  }
  return std::sqrt(diff) / std::max(std::sqrt(norm), 1e-30);
}

template <typename T>
T Unwrap(absl::StatusOr<T> value) {
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *std::move(value) : T{};
}

struct Fixture {
  SafetensorsFile golden, reference;
  ParameterLayout layout;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  int64_t total_steps = 0;
  int steps = 0;
  std::string zero_param, zero_grad;
};

float MetadataFloat(const SafetensorsFile& file, const std::string& key) {
  float value = 0;
  EXPECT_TRUE(absl::SimpleAtof(file.metadata().at(key), &value)) << key;
  return value;
}

int64_t MetadataInt(const SafetensorsFile& file, const std::string& key) {
  int64_t value = 0;
  EXPECT_TRUE(absl::SimpleAtoi(file.metadata().at(key), &value)) << key;
  return value;
}

Fixture Load() {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/albert_golden.textproto");
  EXPECT_TRUE(config.ok()) << config.status();
  Fixture f{Unwrap(SafetensorsFile::Read("tests/golden/albert_golden.safetensors")),
            Unwrap(SafetensorsFile::Read("trainer/testdata/optimizer_fixture.safetensors")),
            BuildParameterLayout(*config)};
  const SafetensorsFile& r = f.reference;
  EXPECT_EQ(r.metadata().at("format"), kFormat) << "regenerate with make_optimizer_fixture.py";
  f.optimizer.set_learning_rate(MetadataFloat(r, "learning_rate"));
  f.optimizer.set_beta1(MetadataFloat(r, "beta1"));
  f.optimizer.set_beta2(MetadataFloat(r, "beta2"));
  f.optimizer.set_epsilon(MetadataFloat(r, "epsilon"));
  f.optimizer.set_weight_decay(MetadataFloat(r, "weight_decay"));
  f.optimizer.set_max_grad_norm(MetadataFloat(r, "max_grad_norm"));
  f.schedule.set_warmup_steps(MetadataInt(r, "warmup_steps"));
  f.schedule.set_power(MetadataFloat(r, "power"));
  f.schedule.set_end_learning_rate(MetadataFloat(r, "end_learning_rate"));
  f.total_steps = MetadataInt(r, "total_steps");
  f.steps = static_cast<int>(MetadataInt(r, "steps"));
  f.zero_param = r.metadata().at("zero_param");
  f.zero_grad = r.metadata().at("zero_grad");
  EXPECT_LE(f.steps, static_cast<int>(std::size(kStepScale)));
  EXPECT_TRUE(ValidateSchedule(f.schedule, f.total_steps).ok());
  return f;
}

std::vector<float> InitialParameters(const Fixture& f) {
  std::vector<float> params(f.layout.total_size);
  for (const NamedTensor& t : f.layout.tensors) {
    const std::vector<float> values = Unwrap(f.golden.Float32("param." + t.name));
    EXPECT_EQ(static_cast<int64_t>(values.size()), t.size) << t.name;
    if (t.name != f.zero_param) std::copy(values.begin(), values.end(), params.begin() + t.offset);
  }
  return params;
}

std::vector<float> Gradients(const Fixture& f, int step) {
  std::vector<float> grads(f.layout.total_size);
  for (const NamedTensor& t : f.layout.tensors) {
    if (t.name == f.zero_grad) continue;
    const std::vector<float> golden = Unwrap(f.golden.Float32("grad." + t.name));
    for (int64_t i = 0; i < t.size && i < static_cast<int64_t>(golden.size()); ++i) {
      grads[t.offset + i] = golden[i] * (kPattern[(i + 3 * step) % 5] * kStepScale[step]);
    }
  }
  return grads;
}

// Largest per-tensor relative error against `prefix` + name; with `expect_match`, each
// tensor's is also required to be within kTolerance.
double MaxError(const Fixture& f, std::span<const float> values, const std::string& prefix,
                bool expect_match) {
  double worst = 0;
  for (const NamedTensor& t : f.layout.tensors) {
    const std::vector<float> expected = Unwrap(f.reference.Float32(prefix + t.name));
    if (static_cast<int64_t>(expected.size()) != t.size) {
      ADD_FAILURE() << prefix << t.name << " has " << expected.size() << " values";
      return INFINITY;
    }
    const double error = RelativeError(values.subspan(t.offset, t.size), expected);
    if (expect_match) {
      EXPECT_LE(error, kTolerance) << prefix << t.name;
    }
    worst = std::max(worst, error);
  }
  return worst;
}

// Runs the fixture's steps with `config` and the schedule's learning rates times
// `lr_factor`; returns the largest error seen (parameters after every step, moments at
// the end). With `expect_match`, also checks clipping and the schedule against the
// fixture and every tensor against the tolerance.
double RunSteps(const Fixture& f, const OptimizerConfig& config, const std::string& name,
           bool expect_match = true, float lr_factor = 1.0f) {
  const std::vector<float> initial = InitialParameters(f);
  const std::vector<float> rates = Unwrap(f.reference.Float32("schedule.learning_rate"));
  const std::vector<double> norms = Unwrap(f.reference.Float64("grad_norm"));
  const std::vector<int32_t> clipped = Unwrap(f.reference.Int32("clipped"));
  std::vector<float> params = initial;
  Optimizer optimizer(config, f.layout);
  double worst = 0;
  for (int step = 0; step < f.steps; ++step) {
    std::vector<float> grads = Gradients(f, step);
    const ClipResult clip = ClipGradientsByGlobalNorm(grads, config.max_grad_norm());
    const float lr = LearningRateAt(f.schedule, f.optimizer.learning_rate(), f.total_steps, step);
    if (expect_match) {
      EXPECT_TRUE(clip.finite);
      EXPECT_NEAR(clip.norm, norms[step], 1e-12 * norms[step]) << "step " << step;
      EXPECT_EQ(clip.clipped, clipped[step] != 0) << "step " << step;
      EXPECT_FLOAT_EQ(lr, rates[step]) << "step " << step;
    }
    optimizer.Step(params, grads, lr * lr_factor);
    if (lr == 0) {
      EXPECT_EQ(params, initial) << "a zero learning rate moved the parameters";
      continue;
    }
    const std::string prefix = name + ".step" + std::to_string(step) + ".param.";
    worst = std::max(worst, MaxError(f, params, prefix, expect_match));
  }
  EXPECT_EQ(optimizer.step_count(), f.steps);
  worst = std::max(worst, MaxError(f, optimizer.exp_avg(), name + ".exp_avg.", expect_match));
  worst = std::max(worst, MaxError(f, optimizer.exp_avg_sq(), name + ".exp_avg_sq.", expect_match));
  std::printf("%s%s: largest relative error over %d steps %.3g\n", name.c_str(),
              expect_match ? "" : " (perturbed)", f.steps, worst);
  return worst;
}

OptimizerConfig WithKind(const Fixture& f, OptimizerConfig::Kind kind) {
  OptimizerConfig config = f.optimizer;
  config.set_kind(kind);
  return config;
}

TEST(OptimizerParity, AdamWMatchesTorch) {
  const Fixture f = Load();
  EXPECT_LE(RunSteps(f, WithKind(f, OptimizerConfig::ADAMW), "adamw"), kTolerance);
}

TEST(OptimizerParity, LambMatchesAlbert) {
  const Fixture f = Load();
  EXPECT_LE(RunSteps(f, WithKind(f, OptimizerConfig::LAMB), "lamb"), kTolerance);
}

// The comparison can fail: learning rates 0.1% too high move the parameters of either
// optimizer beyond the tolerance.
TEST(OptimizerParity, DetectsALearningRateOffByOnePerMille) {
  const Fixture f = Load();
  EXPECT_GT(RunSteps(f, WithKind(f, OptimizerConfig::ADAMW), "adamw", false, 1.001f), kTolerance);
  EXPECT_GT(RunSteps(f, WithKind(f, OptimizerConfig::LAMB), "lamb", false, 1.001f), kTolerance);
}

}  // namespace
}  // namespace cloze
