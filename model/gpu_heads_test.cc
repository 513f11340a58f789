// Every GPU head (trainer/gpu_heads/) on the GPU encoder against the CPU Model with the same
// head: the tiny golden ALBERT and BERT (tests/golden/*_golden.textproto), random
// parameters, a random batch with padding and ignored labels (negative: HF's -100, padding
// tokens, a missing span end), dropout on at every site (so the heads' dropout streams are
// checked too), one forward and one backward, in fp32 and bf16.
//
// Limits. fp32: the losses within 1e-5 relative (the same ops on fp32 values; the sums are
// formed on the host in the CPU's order, so only the per-row losses differ, by float
// rounding); logits, hidden states and each parameter tensor's gradient within 1e-4
// (‖gpu − cpu‖ / ‖cpu‖; for a gradient, ‖cpu‖ at least 1% of the whole gradient's norm),
// gpu_step_test's limit. bf16 rounds every matmul input to 8
// significant bits (2^-9 relative each): losses within 1e-2 as gpu_step_test; logits and
// hidden states within 2e-2 and gradients within 5e-2 per tensor, where the roundings of a
// four-layer forward and backward add up (a wrong op, mask or slot errs by O(1)).
//
// Tagged "gpu": skipped where CUDA is not built or no GPU is usable; two tests run
// everywhere: GpuModel then fails cleanly for every head, saying why, and the batches suit
// the CPU Model (every term counts rows, some labels are ignored).
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cuda/device.h"
#include "model/gpu_model.h"
#include "model/head_spec.h"
#include "model/model.h"
#include "model/model_config.h"
#include "model/parity_testing.h"

namespace cloze {
namespace {

using parity::Distance;
using parity::Norm;
using parity::RelativeDifference;
using parity::RelativeError;

#define SKIP_WITHOUT_GPU()                                                 \
  do {                                                                     \
    const cuda::DeviceStatus usable_ = cuda::gpu_usable();                 \
    if (!usable_.ok()) GTEST_SKIP() << "no usable GPU: " << usable_.error; \
  } while (0)

constexpr int32_t kIgnored = -100;  // Hugging Face's ignore index

const HeadSpec kHeads[] = {
    {HeadKind::kSequenceClassification, 3},
    {HeadKind::kSequenceClassification, 1},  // regression
    {HeadKind::kTokenClassification, 5},
    {HeadKind::kSpanExtraction, 2},
    {HeadKind::kPretraining, 2},
};

std::string HeadName(const HeadSpec& head) {
  return head.is_regression() ? std::string("regression") : std::string(HeadKindName(head.kind));
}

// B = 4 sequences of T = 12 (the golden configs allow 16 positions) with 12, 9, 7 and 6
// tokens, then padding; labels for `head` with some ignored.
Batch RandomBatch(const ModelConfig& config, const HeadSpec& head, uint64_t seed) {
  constexpr int kBatch = 4, kSeqLen = 12;
  const int lengths[kBatch] = {12, 9, 7, 6};
  std::mt19937_64 rng(seed);
  auto draw = [&rng](int64_t lo, int64_t hi) {  // uniform in [lo, hi)
    return static_cast<int32_t>(lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo)));
  };
  Batch batch;
  batch.batch_size = kBatch;
  batch.seq_len = kSeqLen;
  for (int b = 0; b < kBatch; ++b) {
    for (int t = 0; t < kSeqLen; ++t) {
      const bool token = t < lengths[b];
      batch.input_ids.push_back(!token ? 0 : t == 0 ? 2 : draw(5, config.vocab_size()));
      batch.token_type_ids.push_back(token && t >= lengths[b] / 2 ? 1 : 0);
      batch.attention_mask.push_back(token ? 1 : 0);
    }
  }
  const int labels = head.num_labels;
  switch (head.kind) {
    case HeadKind::kPretraining:
      for (int b = 0; b < kBatch; ++b) {
        for (int p = 0; p < 3; ++p) {
          batch.masked_positions.push_back(b * kSeqLen + draw(1, lengths[b]));
          batch.masked_labels.push_back(p == 2 && b % 2 == 1 ? -1 : draw(0, config.vocab_size()));
        }
      }
      batch.sentence_labels = {0, 1, kIgnored, 1};
      break;
    case HeadKind::kSequenceClassification:
      if (head.is_regression()) {
        std::normal_distribution<float> target(2.5f, 1.5f);  // STS-B's 0..5 scores, roughly
        for (int b = 0; b < kBatch; ++b) batch.targets.push_back(target(rng));
      } else {
        for (int b = 0; b < kBatch; ++b) batch.labels.push_back(b == 2 ? kIgnored : draw(0, labels));
      }
      break;
    case HeadKind::kTokenClassification:
      for (int b = 0; b < kBatch; ++b) {
        for (int t = 0; t < kSeqLen; ++t) {
          // Padding and about a quarter of the tokens (a word's later sub-tokens) ignored.
          const bool labelled = t < lengths[b] && rng() % 4 != 0;
          batch.labels.push_back(labelled ? draw(0, labels) : kIgnored);
        }
      }
      break;
    case HeadKind::kSpanExtraction: {
      std::vector<int32_t> starts, ends;
      for (int b = 0; b < kBatch; ++b) {
        starts.push_back(b == 1 ? kIgnored : draw(0, lengths[b]));
        ends.push_back(b == 3 ? kIgnored : draw(std::max(starts.back(), 0), lengths[b]));
      }
      batch.labels = starts;
      batch.labels.insert(batch.labels.end(), ends.begin(), ends.end());
      break;
    }
  }
  return batch;
}

// The parity test's own batches, on the CPU (so it runs everywhere): valid for every head,
// every weighted term counts rows, and every head but regression ignores some.
TEST(GpuHeadsFixtureTest, BatchesSuitEveryHead) {
  for (const char* name : {"albert_golden", "bert_golden"}) {
    absl::StatusOr<ModelConfig> config = LoadModelConfig(std::string("tests/golden/") + name + ".textproto");
    ASSERT_TRUE(config.ok()) << config.status();
    for (const HeadSpec& head : kHeads) {
      SCOPED_TRACE(std::string(name) + " " + HeadName(head));
      absl::StatusOr<Model> model = Model::Create(*config, head);
      ASSERT_TRUE(model.ok()) << model.status();
      const Batch batch = RandomBatch(*config, head, 42);
      absl::StatusOr<Losses> losses = model->Forward(batch, {});
      ASSERT_TRUE(losses.ok()) << losses.status();
      const std::array<double, kMaxLossTerms> weights = model->head().term_weights();
      int64_t ignored = 0;
      for (int32_t label : batch.labels) ignored += label < 0;
      for (int32_t label : batch.masked_labels) ignored += label < 0;
      for (int32_t label : batch.sentence_labels) ignored += label < 0;
      for (int i = 0; i < kMaxLossTerms; ++i) {
        if (weights[i] > 0) EXPECT_GT(losses->terms[i].count, 0) << "term " << i;
      }
      if (!head.is_regression()) EXPECT_GT(ignored, 0);
    }
  }
}

TEST(GpuHeadsWithoutGpuTest, CreateFailsSayingWhy) {
  // Not GTEST_SKIP: run_gpu_checks.sh treats any skip on the GPU machine as a failure.
  if (cuda::gpu_usable().ok()) return;  // a GPU is usable here; the parity tests cover it
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/albert_golden.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  for (const HeadSpec& head : kHeads) {
    absl::StatusOr<std::unique_ptr<GpuModel>> model =
        GpuModel::Create(*config, {.precision = GpuPrecision::kFp32}, head);
    ASSERT_FALSE(model.ok()) << HeadName(head);
    EXPECT_EQ(model.status().code(), absl::StatusCode::kFailedPrecondition) << model.status();
    EXPECT_NE(model.status().message(), "");
  }
}

class GpuHeadsTest : public ::testing::Test {
 protected:
  void SetUp() override { SKIP_WITHOUT_GPU(); }
};

// The CPU factory's checks, the CPU factory's words.
TEST_F(GpuHeadsTest, RefusesAnUnusableHeadSpec) {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/bert_golden.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  for (const HeadSpec& bad : {HeadSpec{HeadKind::kSequenceClassification, 0},
                              HeadSpec{HeadKind::kTokenClassification, 1}}) {
    absl::StatusOr<std::unique_ptr<GpuModel>> model = GpuModel::Create(*config, {}, bad);
    ASSERT_FALSE(model.ok());
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << model.status();
    EXPECT_EQ(model.status(), Model::Create(*config, bad).status());
  }
}

TEST_F(GpuHeadsTest, OutputsNeedAForwardAndExist) {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/bert_golden.textproto");
  ASSERT_TRUE(config.ok()) << config.status();
  const HeadSpec head{HeadKind::kSequenceClassification, 3};
  absl::StatusOr<std::unique_ptr<GpuModel>> gpu = GpuModel::Create(*config, {}, head);
  ASSERT_TRUE(gpu.ok()) << gpu.status();
  EXPECT_EQ((*gpu)->logits().status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*gpu)->hidden_state(0).status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ((*gpu)->Backward().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE((*gpu)->Forward(RandomBatch(*config, head, 1), {}).ok());
  EXPECT_EQ((*gpu)->logits(1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*gpu)->hidden_state(-1).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*gpu)->hidden_state(config->num_hidden_layers() + 1).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A batch without the head's labels is refused, as by the CPU Model.
  Batch unlabelled = RandomBatch(*config, head, 1);
  unlabelled.labels.clear();
  EXPECT_EQ((*gpu)->Forward(unlabelled, {}).status().code(), absl::StatusCode::kInvalidArgument);
}

struct Limits {
  double loss, outputs, gradients;
};

Limits LimitsFor(GpuPrecision precision) {
  return precision == GpuPrecision::kFp32 ? Limits{1e-5, 1e-4, 1e-4} : Limits{1e-2, 2e-2, 5e-2};
}

using ParityCase = std::tuple<const char*, HeadSpec, GpuPrecision>;

std::string ParityName(const ::testing::TestParamInfo<ParityCase>& info) {
  const auto& [config, head, precision] = info.param;
  return std::string(config) + "_" + HeadName(head) + (precision == GpuPrecision::kFp32 ? "_fp32" : "_bf16");
}

class GpuHeadParityTest : public ::testing::TestWithParam<ParityCase> {
 protected:
  void SetUp() override { SKIP_WITHOUT_GPU(); }
};

TEST_P(GpuHeadParityTest, ForwardAndBackwardMatchTheCpu) {
  const auto& [config_name, head, precision] = GetParam();
  const Limits limits = LimitsFor(precision);
  absl::StatusOr<ModelConfig> loaded = LoadModelConfig(std::string("tests/golden/") + config_name + ".textproto");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ModelConfig config = *loaded;
  // Dropout on at every site, the heads' included.
  config.set_hidden_dropout_prob(0.1f);
  config.set_attention_probs_dropout_prob(0.1f);
  config.set_classifier_dropout_prob(0.1f);

  absl::StatusOr<Model> cpu = Model::Create(config, head);
  ASSERT_TRUE(cpu.ok()) << cpu.status();
  cpu->InitializeParameters(11);
  absl::StatusOr<std::unique_ptr<GpuModel>> created = GpuModel::Create(config, {.precision = precision}, head);
  ASSERT_TRUE(created.ok()) << created.status();
  GpuModel& gpu = **created;
  EXPECT_EQ(gpu.head().spec().kind, head.kind);
  // The same HeadDefinition class on both sides: the same tensors at the same offsets.
  const ParameterLayout& layout = cpu->layout();
  ASSERT_EQ(gpu.layout().total_size, layout.total_size);
  ASSERT_EQ(gpu.layout().tensors.size(), layout.tensors.size());
  for (size_t i = 0; i < layout.tensors.size(); ++i) {
    EXPECT_EQ(gpu.layout().tensors[i].name, layout.tensors[i].name);
    EXPECT_EQ(gpu.layout().tensors[i].offset, layout.tensors[i].offset);
  }
  ASSERT_TRUE(gpu.InitializeParameters(11).ok());
  std::vector<float> gpu_params(layout.total_size);
  ASSERT_TRUE(gpu.DownloadParameters(gpu_params).ok());
  ASSERT_EQ(RelativeDifference(gpu_params, cpu->parameters()), 0.0) << "the same seed must give the same parameters";

  const Batch batch = RandomBatch(config, head, 42);
  const StepOptions options{.training = true, .dropout_seed = 99, .first_example = 5};
  absl::StatusOr<Losses> want = cpu->Forward(batch, options);
  ASSERT_TRUE(want.ok()) << want.status();
  absl::StatusOr<Losses> got = gpu.Forward(batch, options);
  ASSERT_TRUE(got.ok()) << got.status();
  std::printf("loss cpu %.9f gpu %.9f\n", want->total_loss, got->total_loss);
  for (int i = 0; i < kMaxLossTerms; ++i) {
    SCOPED_TRACE("term " + std::to_string(i));
    EXPECT_EQ(got->terms[i].count, want->terms[i].count);
    EXPECT_EQ(got->terms[i].count, cpu->CountPredictions(batch).terms[i]);
    EXPECT_LE(RelativeError(got->terms[i].mean, want->terms[i].mean), limits.loss)
        << got->terms[i].mean << " vs " << want->terms[i].mean;
    if (precision == GpuPrecision::kFp32) {
      // Ties aside, an argmax moves only when logits differ by more than rounding.
      EXPECT_NEAR(got->terms[i].correct, want->terms[i].correct, 1);
    }
  }
  EXPECT_GT(want->terms[0].count, 0) << "the batch must count something";
  EXPECT_LE(RelativeError(got->total_loss, want->total_loss), limits.loss);

  const int outputs = head.kind == HeadKind::kPretraining || head.kind == HeadKind::kSpanExtraction ? 2 : 1;
  for (int output = 0; output < outputs; ++output) {
    absl::StatusOr<std::vector<float>> logits = gpu.logits(output);
    ASSERT_TRUE(logits.ok()) << logits.status();
    const double difference = RelativeDifference(*logits, cpu->logits(output));
    std::printf("logits %d differ by %.3g\n", output, difference);
    EXPECT_LE(difference, limits.outputs) << "logits " << output;
  }
  for (int i = 0; i <= config.num_hidden_layers(); ++i) {
    absl::StatusOr<std::vector<float>> hidden = gpu.hidden_state(i);
    ASSERT_TRUE(hidden.ok()) << hidden.status();
    EXPECT_LE(RelativeDifference(*hidden, cpu->hidden_state(i)), limits.outputs) << "hidden state " << i;
  }

  // A step's share: normalised by a larger step's counts, as a data-parallel worker's.
  LossNormalizer normalizer = cpu->CountPredictions(batch);
  for (int64_t& count : normalizer.terms) count *= 2;
  cpu->ZeroGradients();
  ASSERT_TRUE(gpu.ZeroGradients().ok());
  ASSERT_TRUE(cpu->Backward(normalizer).ok());
  ASSERT_TRUE(gpu.Backward(normalizer).ok());
  std::vector<float> gpu_grads(layout.total_size);
  ASSERT_TRUE(gpu.DownloadGradients(gpu_grads).ok());
  const std::span<const float> cpu_grads = cpu->gradients();
  // Per tensor, relative to the tensor's norm, but never to less than 1% of the whole
  // gradient's: the key bias's gradient is zero in exact arithmetic (softmax ignores a
  // constant added to a row of scores), so both sides hold rounding noise there.
  const double floor = 1e-2 * Norm(cpu_grads);
  double worst = 0;
  for (const NamedTensor& tensor : layout.tensors) {
    const std::span<const float> got_tensor(gpu_grads.data() + tensor.offset, tensor.size);
    const std::span<const float> want_tensor = cpu_grads.subspan(tensor.offset, tensor.size);
    const double difference = Distance(got_tensor, want_tensor) / std::max(Norm(want_tensor), floor);
    worst = std::max(worst, difference);
    EXPECT_LE(difference, limits.gradients) << "gradient of " << tensor.name;
  }
  std::printf("gradients: worst tensor differs by %.3g, all by %.3g\n", worst,
              RelativeDifference(gpu_grads, cpu_grads));

  // Backward(loss_scale) scales by the last Forward's own counts, as the CPU's.
  cpu->ZeroGradients();
  ASSERT_TRUE(gpu.ZeroGradients().ok());
  ASSERT_TRUE(cpu->Backward(0.5f).ok());
  ASSERT_TRUE(gpu.Backward(0.5f).ok());
  ASSERT_TRUE(gpu.DownloadGradients(gpu_grads).ok());
  EXPECT_LE(RelativeDifference(gpu_grads, cpu->gradients()), limits.gradients);
}

INSTANTIATE_TEST_SUITE_P(Heads, GpuHeadParityTest,
                         ::testing::Combine(::testing::Values("albert_golden", "bert_golden"),
                                            ::testing::ValuesIn(kHeads),
                                            ::testing::Values(GpuPrecision::kFp32, GpuPrecision::kBf16)),
                         ParityName);

}  // namespace
}  // namespace cloze
