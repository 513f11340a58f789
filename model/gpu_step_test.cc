// The GPU training step (GpuModel + GpuOptimizer) against the CPU one (Model + clip +
// Optimizer, as trainer.cc runs them) from the same initial parameters and batches: three
// steps of two micro-batches each (so accumulation, the shared loss normalizer and the
// first_example dropout offsets are exercised), dropout on at every site, global-norm
// clipping at 1.0, then LAMB or AdamW.
//
// Limits (issue 6): fp32 losses within 1e-4 relative and parameters after three steps
// within 1e-4 (‖gpu − cpu‖ / ‖cpu‖); bf16 within 1e-2. In fp32 the gradients of the first
// step are held to 1e-4 too (the sharpest check: they do not shrink with the learning rate).
//
// Tagged "gpu": skipped where CUDA is not built or no GPU is usable; the one test that
// runs everywhere checks that the GPU classes then fail cleanly, saying why.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cuda/device.h"
#include "proto/train_config.pb.h"
#include "kernels/cpu/clip.h"
#include "model/gpu_model.h"
#include "kernels/cuda/gpu_optimizer.h"
#include "model/model.h"
#include "model/model_config.h"
#include "model/parity_testing.h"
#include "kernels/cpu/optimizer.h"
#include "model/synthetic_batch.h"

namespace cloze {
namespace {

using parity::RelativeDifference;
using parity::RelativeError;

#define SKIP_WITHOUT_GPU()                                                   \
  do {                                                                       \
    const cuda::DeviceStatus usable_ = cuda::gpu_usable();                   \
    if (!usable_.ok()) GTEST_SKIP() << "no usable GPU: " << usable_.error;   \
  } while (0)

TEST(GpuStepWithoutGpuTest, CreateFailsSayingWhy) {
  // Not GTEST_SKIP: run_gpu_checks.sh treats any skip on the GPU machine as a failure.
  if (cuda::gpu_usable().ok()) return;  // a GPU is usable here; the parity tests cover it
  absl::StatusOr<ModelConfig> config = LoadModelConfig("configs/albert-tiny.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<std::unique_ptr<GpuModel>> model = GpuModel::Create(*config, {.precision = GpuPrecision::kFp32});
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition) << model.status();
  EXPECT_NE(model.status().message(), "");
  OptimizerConfig optimizer;
  optimizer.set_kind(OptimizerConfig::LAMB);
  optimizer.set_learning_rate(1e-3f);
  optimizer.set_beta1(0.9f);
  optimizer.set_beta2(0.999f);
  optimizer.set_epsilon(1e-6f);
  absl::StatusOr<std::unique_ptr<GpuOptimizer>> gpu_optimizer =
      GpuOptimizer::Create(optimizer, BuildParameterLayout(*config));
  ASSERT_FALSE(gpu_optimizer.ok());
  EXPECT_EQ(gpu_optimizer.status().code(), absl::StatusCode::kFailedPrecondition) << gpu_optimizer.status();
}

struct StepCase {
  const char* config;
  GpuPrecision precision;
  OptimizerConfig::Kind optimizer;
  double limit;  // losses (relative) and parameters (relative norm)
  GpuAttention attention = GpuAttention::kUnfused;
};

std::string CaseName(const ::testing::TestParamInfo<StepCase>& info) {
  const std::string name = parity::ConfigCaseName(info.param.config);
  return name + (info.param.precision == GpuPrecision::kFp32 ? "_fp32_" : "_bf16_") +
         OptimizerConfig::Kind_Name(info.param.optimizer) +
         (info.param.attention == GpuAttention::kFused ? "_fused_attention" : "");
}

class GpuStepParityTest : public ::testing::TestWithParam<StepCase> {
 protected:
  void SetUp() override { SKIP_WITHOUT_GPU(); }
};

TEST_P(GpuStepParityTest, ThreeStepsMatchTheCpu) {
  const StepCase& c = GetParam();
  absl::StatusOr<ModelConfig> loaded = LoadModelConfig(c.config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const ModelConfig config = parity::WithDropoutEverywhere(*loaded);
  const OptimizerConfig optimizer_config = parity::StepTestOptimizer(c.optimizer);

  Model cpu(config);
  cpu.InitializeParameters(7);
  Optimizer cpu_optimizer(optimizer_config, cpu.layout());
  absl::StatusOr<std::unique_ptr<GpuModel>> created = GpuModel::Create(config, {.precision = c.precision, .attention = c.attention});
  ASSERT_TRUE(created.ok()) << created.status();
  GpuModel& gpu = **created;
  absl::StatusOr<std::unique_ptr<GpuOptimizer>> gpu_optimizer =
      GpuOptimizer::Create(optimizer_config, gpu.layout());
  ASSERT_TRUE(gpu_optimizer.ok()) << gpu_optimizer.status();
  ASSERT_TRUE(gpu.InitializeParameters(7).ok());
  const int64_t total = cpu.layout().total_size;
  std::vector<float> gpu_params(total), gpu_grads(total);
  ASSERT_TRUE(gpu.DownloadParameters(gpu_params).ok());
  ASSERT_EQ(RelativeDifference(gpu_params, {cpu.parameters().begin(), cpu.parameters().end()}), 0.0)
      << "the same seed must give the same initial parameters";

  constexpr int kSteps = 3, kMicroBatches = 2, kBatch = 3, kSeqLen = 32, kPredictions = 5;
  const float learning_rates[kSteps] = {1e-3f, 8e-4f, 1.2e-3f};
  for (int step = 0; step < kSteps; ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    std::vector<Batch> batches;
    LossNormalizer normalizer;
    for (int micro = 0; micro < kMicroBatches; ++micro) {
      batches.push_back(MakeSyntheticBatch(config, kBatch, kSeqLen, kPredictions, 100 * step + micro + 1));
      const PredictionCounts counts = cpu.CountPredictions(batches.back());
      for (int i = 0; i < kMaxLossTerms; ++i) normalizer.terms[i] += counts.terms[i];
    }
    cpu.ZeroGradients();
    ASSERT_TRUE(gpu.ZeroGradients().ok());
    for (int micro = 0; micro < kMicroBatches; ++micro) {
      const StepOptions options{.training = true,
                                .dropout_seed = 1000 + uint64_t(step),
                                .first_example = int64_t{micro} * kBatch};
      absl::StatusOr<Losses> want = cpu.Forward(batches[micro], options);
      ASSERT_TRUE(want.ok()) << want.status();
      absl::StatusOr<Losses> got = gpu.Forward(batches[micro], options);
      ASSERT_TRUE(got.ok()) << got.status();
      std::printf("step %d micro %d: loss cpu %.9f gpu %.9f (mlm %.9f / %.9f, sentence %.9f / %.9f)\n", step,
                  micro, want->total_loss, got->total_loss, want->mlm().mean, got->mlm().mean,
                  want->sentence().mean, got->sentence().mean);
      EXPECT_LE(RelativeError(got->mlm().mean, want->mlm().mean), c.limit);
      EXPECT_LE(RelativeError(got->sentence().mean, want->sentence().mean), c.limit);
      EXPECT_LE(RelativeError(got->total_loss, want->total_loss), c.limit);
      EXPECT_EQ(got->mlm().count, want->mlm().count);
      EXPECT_EQ(got->sentence().count, want->sentence().count);
      if (c.precision == GpuPrecision::kFp32) {
        // Ties aside, an argmax moves only when logits differ by more than rounding.
        EXPECT_NEAR(got->mlm().correct, want->mlm().correct, 1);
        EXPECT_NEAR(got->sentence().correct, want->sentence().correct, 1);
      }
      ASSERT_TRUE(cpu.Backward(normalizer).ok());
      ASSERT_TRUE(gpu.Backward(normalizer).ok());
    }
    ASSERT_TRUE(gpu.DownloadGradients(gpu_grads).ok());
    const double grad_difference =
        RelativeDifference(gpu_grads, {cpu.gradients().begin(), cpu.gradients().end()});
    std::printf("step %d: gradients differ by %.3g (relative norm)\n", step, grad_difference);
    if (step == 0 && c.precision == GpuPrecision::kFp32) {
      EXPECT_LE(grad_difference, c.limit);
    }

    const double cpu_norm = GlobalNorm(cpu.gradients());
    ScaleGradients(cpu.gradients(), ClipScale(cpu_norm, optimizer_config.max_grad_norm()));
    cpu_optimizer.Step(cpu.parameters(), cpu.gradients(), learning_rates[step]);
    absl::StatusOr<ClipResult> clipped = (*gpu_optimizer)->Step(gpu.parameters(), gpu.gradients(), learning_rates[step]);
    ASSERT_TRUE(clipped.ok()) << clipped.status();
    EXPECT_TRUE(clipped->finite);
    EXPECT_LE(RelativeError(clipped->norm, cpu_norm), c.limit);
    EXPECT_EQ((*gpu_optimizer)->step_count(), cpu_optimizer.step_count());
  }
  ASSERT_TRUE(gpu.DownloadParameters(gpu_params).ok());
  const double param_difference =
      RelativeDifference(gpu_params, {cpu.parameters().begin(), cpu.parameters().end()});
  std::printf("after %d steps: parameters differ by %.3g (relative norm)\n", kSteps, param_difference);
  EXPECT_LE(param_difference, c.limit);
  // The update itself, not just the parameters (which barely move in three steps).
  std::vector<float> moment(total), moment_sq(total);
  ASSERT_TRUE((*gpu_optimizer)->DownloadState(moment, moment_sq).ok());
  const double moment_difference =
      RelativeDifference(moment, {cpu_optimizer.exp_avg().begin(), cpu_optimizer.exp_avg().end()});
  std::printf("after %d steps: exp_avg differs by %.3g (relative norm)\n", kSteps, moment_difference);
  if (c.precision == GpuPrecision::kFp32) {
    EXPECT_LE(moment_difference, 10 * c.limit);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Configs, GpuStepParityTest,
    ::testing::Values(StepCase{"configs/albert-tiny.textproto", GpuPrecision::kFp32, OptimizerConfig::LAMB, 1e-4},
                      StepCase{"configs/bert-tiny.textproto", GpuPrecision::kFp32, OptimizerConfig::ADAMW, 1e-4},
                      StepCase{"configs/albert-tiny.textproto", GpuPrecision::kFp32, OptimizerConfig::ADAMW, 1e-4},
                      StepCase{"configs/bert-tiny.textproto", GpuPrecision::kFp32, OptimizerConfig::LAMB, 1e-4},
                      StepCase{"configs/albert-tiny.textproto", GpuPrecision::kBf16, OptimizerConfig::LAMB, 1e-2},
                      StepCase{"configs/bert-tiny.textproto", GpuPrecision::kBf16, OptimizerConfig::ADAMW, 1e-2},
                      // The flash-style attention: the same step within the same limits.
                      StepCase{"configs/albert-tiny.textproto", GpuPrecision::kFp32, OptimizerConfig::LAMB, 1e-4,
                               GpuAttention::kFused},
                      StepCase{"configs/bert-tiny.textproto", GpuPrecision::kFp32, OptimizerConfig::ADAMW, 1e-4,
                               GpuAttention::kFused},
                      StepCase{"configs/albert-tiny.textproto", GpuPrecision::kBf16, OptimizerConfig::LAMB, 1e-2,
                               GpuAttention::kFused}),
    CaseName);

}  // namespace
}  // namespace cloze
