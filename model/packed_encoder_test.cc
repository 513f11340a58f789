// The packed token layout (encoder.h's TokenLayout::kPacked: the layers run on the real
// tokens only) against the padded one, the oracle: the same batch of varying lengths, some
// full, dropout on at every site, several dropout seeds, through the sequence- and
// token-classification heads, in fp32 and bf16. Compared: the loss, the logits (at real
// tokens for the tagger), every layer's hidden states at real positions (packed leaves zeros
// at the pads) and every parameter tensor's gradient.
//
// Limits: fp32 within 1e-5 relative (‖packed − padded‖ / ‖padded‖; only the order of some
// sums differs: measured below 1e-6). bf16 within bf16_step_test's limits, 1e-2 for outputs
// and 2e-2 for gradients: a sum in a different order can round a bf16 operand the other way
// downstream. Also: a batch without padding runs padded, bit for bit; a token label at a pad
// makes the batch run padded; the heads that read pad positions refuse the packed layout.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/cpu/bf16_gemm.h"
#include "model/model.h"
#include "model/model_config.h"
#include "model/parity_testing.h"

namespace cloze {
namespace {

using parity::Distance;
using parity::Norm;
using parity::RelativeDifference;
using parity::RelativeError;

struct Limits {
  double outputs, gradients;
};

Limits LimitsOf(cpu::Precision precision) {
  return precision == cpu::Precision::kFp32 ? Limits{1e-5, 1e-5} : Limits{1e-2, 2e-2};
}

// B = 6 examples padded to T = 12: two full, one of length 1, the rest in between.
constexpr int kBatch = 6, kSeq = 12;
constexpr int kLengths[kBatch] = {12, 5, 1, 9, 12, 3};

Batch VaryingBatch(const ModelConfig& config, const HeadSpec& head, uint64_t seed) {
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Batch batch;
  batch.batch_size = kBatch;
  batch.seq_len = kSeq;
  for (int b = 0; b < kBatch; ++b) {
    for (int t = 0; t < kSeq; ++t) {
      const bool real = t < kLengths[b];
      batch.input_ids.push_back(real ? uniform(1, config.vocab_size() - 1) : config.pad_token_id());
      batch.token_type_ids.push_back(real && t >= kLengths[b] / 2 ? 1 : 0);
      batch.attention_mask.push_back(real ? 1 : 0);
      // Token labels at real tokens only (one in four ignored, as sub-tokens are), -100 at pads.
      if (head.kind == HeadKind::kTokenClassification) {
        batch.labels.push_back(real && uniform(0, 3) != 0 ? uniform(0, head.num_labels - 1) : -100);
      }
    }
    if (head.kind == HeadKind::kSequenceClassification) batch.labels.push_back(uniform(0, head.num_labels - 1));
  }
  return batch;
}

// The rows of `values` (B·T rows of `width`) at real positions of `batch`.
std::vector<float> RealRows(std::span<const float> values, const Batch& batch, int64_t width) {
  std::vector<float> rows;
  for (int64_t i = 0; i < int64_t{batch.batch_size} * batch.seq_len; ++i) {
    if (batch.attention_mask[i] != 0) rows.insert(rows.end(), values.begin() + i * width, values.begin() + (i + 1) * width);
  }
  return rows;
}

// Whether every value of `values` at pad positions of `batch` is zero.
bool ZeroAtPads(std::span<const float> values, const Batch& batch, int64_t width) {
  for (int64_t i = 0; i < int64_t{batch.batch_size} * batch.seq_len; ++i) {
    if (batch.attention_mask[i] != 0) continue;
    for (int64_t j = 0; j < width; ++j) {
      if (values[i * width + j] != 0.0f) return false;
    }
  }
  return true;
}

struct PackedCase {
  const char* config;
  HeadKind head;
  cpu::Precision precision;
};

std::string CaseName(const ::testing::TestParamInfo<PackedCase>& info) {
  const std::string name = parity::ConfigCaseName(info.param.config);
  return name + "_" + HeadKindName(info.param.head) + "_" + cpu::PrecisionName(info.param.precision);
}

struct Pair {
  Model padded, packed;
};

Pair MakePair(const ModelConfig& config, const HeadSpec& head, cpu::Precision precision) {
  absl::StatusOr<Model> padded = Model::Create(config, head, precision, TokenLayout::kPadded);
  absl::StatusOr<Model> packed = Model::Create(config, head, precision, TokenLayout::kPacked);
  EXPECT_TRUE(padded.ok()) << padded.status();
  EXPECT_TRUE(packed.ok()) << packed.status();
  padded->InitializeParameters(11);
  packed->InitializeParameters(11);
  return {*std::move(padded), *std::move(packed)};
}

class PackedEncoderTest : public ::testing::TestWithParam<PackedCase> {};

TEST_P(PackedEncoderTest, MatchesPaddedWithDropout) {
  const PackedCase& c = GetParam();
  std::printf("CpuHasBf16: %d\n", cpu::CpuHasBf16());
  absl::StatusOr<ModelConfig> loaded = LoadModelConfig(c.config);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const ModelConfig config = parity::WithDropoutEverywhere(*loaded);
  const HeadSpec head{.kind = c.head, .num_labels = 3};
  const Limits limits = LimitsOf(c.precision);
  Pair models = MakePair(config, head, c.precision);
  const int64_t h = config.hidden_size();

  for (uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("dropout seed " + std::to_string(seed));
    const Batch batch = VaryingBatch(config, head, 100 + seed);
    const StepOptions options{.training = true, .dropout_seed = seed, .first_example = static_cast<int64_t>(seed)};
    models.padded.ZeroGradients();
    models.packed.ZeroGradients();
    absl::StatusOr<Losses> padded = models.padded.Forward(batch, options);
    absl::StatusOr<Losses> packed = models.packed.Forward(batch, options);
    ASSERT_TRUE(padded.ok() && packed.ok());
    EXPECT_LE(RelativeError(packed->total_loss, padded->total_loss), limits.outputs)
        << packed->total_loss << " against " << padded->total_loss;

    const int64_t labels = head.num_labels;
    if (c.head == HeadKind::kTokenClassification) {
      EXPECT_LE(RelativeDifference(RealRows(models.packed.logits(), batch, labels),
                                   RealRows(models.padded.logits(), batch, labels)),
                limits.outputs);
    } else {
      EXPECT_LE(RelativeDifference(models.packed.logits(), models.padded.logits()), limits.outputs);
    }
    for (int i = 0; i <= config.num_hidden_layers(); ++i) {
      EXPECT_LE(RelativeDifference(RealRows(models.packed.hidden_state(i), batch, h),
                                   RealRows(models.padded.hidden_state(i), batch, h)),
                limits.outputs)
          << "hidden state " << i;
      EXPECT_TRUE(ZeroAtPads(models.packed.hidden_state(i), batch, h)) << "hidden state " << i;
    }
    // The padded model computes the pads, so a zero there says the packed one skipped them.
    EXPECT_FALSE(ZeroAtPads(models.padded.hidden_state(config.num_hidden_layers()), batch, h));

    ASSERT_TRUE(models.padded.Backward().ok());
    ASSERT_TRUE(models.packed.Backward().ok());
    const std::span<const float> want = models.padded.gradients(), got = models.packed.gradients();
    EXPECT_LE(RelativeDifference(got, want), limits.gradients) << "all gradients";
    // Per tensor, relative to its norm but never to less than 1% of the whole gradient's (as
    // gpu_heads_test): a key bias's gradient is zero in exact arithmetic (softmax ignores a
    // constant added to a row of scores), so both layouts hold rounding noise there.
    const double floor = 1e-2 * Norm(want);
    double worst = 0;
    for (const NamedTensor& tensor : models.padded.layout().tensors) {
      const double difference = Distance(got.subspan(tensor.offset, tensor.size), want.subspan(tensor.offset, tensor.size)) /
                                std::max(Norm(want.subspan(tensor.offset, tensor.size)), floor);
      worst = std::max(worst, difference);
      EXPECT_LE(difference, limits.gradients) << tensor.name;
    }
    std::printf("seed %d: loss %.3g, gradients %.3g (worst tensor %.3g) relative\n", static_cast<int>(seed),
                RelativeError(packed->total_loss, padded->total_loss), RelativeDifference(got, want), worst);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Layouts, PackedEncoderTest,
    ::testing::Values(
        PackedCase{"tests/golden/albert_golden.textproto", HeadKind::kSequenceClassification, cpu::Precision::kFp32},
        PackedCase{"tests/golden/albert_golden.textproto", HeadKind::kTokenClassification, cpu::Precision::kFp32},
        PackedCase{"tests/golden/bert_golden.textproto", HeadKind::kSequenceClassification, cpu::Precision::kFp32},
        PackedCase{"tests/golden/bert_golden.textproto", HeadKind::kTokenClassification, cpu::Precision::kFp32},
        PackedCase{"configs/albert-tiny.textproto", HeadKind::kSequenceClassification, cpu::Precision::kFp32},
        PackedCase{"configs/albert-tiny.textproto", HeadKind::kTokenClassification, cpu::Precision::kFp32},
        PackedCase{"tests/golden/albert_golden.textproto", HeadKind::kSequenceClassification, cpu::Precision::kBf16},
        PackedCase{"tests/golden/bert_golden.textproto", HeadKind::kTokenClassification, cpu::Precision::kBf16},
        PackedCase{"configs/albert-tiny.textproto", HeadKind::kSequenceClassification, cpu::Precision::kBf16},
        PackedCase{"configs/albert-tiny.textproto", HeadKind::kTokenClassification, cpu::Precision::kBf16}),
    CaseName);

// Forward + backward of `model` on `batch`; its loss.
double Step(Model& model, const Batch& batch, uint64_t seed) {
  model.ZeroGradients();
  absl::StatusOr<Losses> losses = model.Forward(batch, {.training = true, .dropout_seed = seed});
  EXPECT_TRUE(losses.ok()) << losses.status();
  EXPECT_TRUE(model.Backward().ok());
  return losses->total_loss;
}

TEST(PackedEncoder, BatchWithoutPaddingRunsPaddedBitForBit) {
  absl::StatusOr<ModelConfig> loaded = LoadModelConfig("tests/golden/albert_golden.textproto");
  ASSERT_TRUE(loaded.ok());
  const ModelConfig config = parity::WithDropoutEverywhere(*loaded);
  const HeadSpec head{.kind = HeadKind::kSequenceClassification, .num_labels = 2};
  Pair models = MakePair(config, head, cpu::Precision::kFp32);
  Batch batch = VaryingBatch(config, head, 5);
  std::fill(batch.attention_mask.begin(), batch.attention_mask.end(), 1);
  EXPECT_EQ(Step(models.packed, batch, 9), Step(models.padded, batch, 9));
  EXPECT_TRUE(std::equal(models.packed.gradients().begin(), models.packed.gradients().end(),
                         models.padded.gradients().begin()));
}

TEST(PackedEncoder, TokenLabelAtAPadRunsPadded) {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/albert_golden.textproto");
  ASSERT_TRUE(config.ok());
  const HeadSpec head{.kind = HeadKind::kTokenClassification, .num_labels = 3};
  Pair models = MakePair(*config, head, cpu::Precision::kFp32);
  Batch batch = VaryingBatch(*config, head, 6);
  batch.labels[kSeq + kLengths[1]] = 2;  // example 1's first pad
  EXPECT_EQ(Step(models.packed, batch, 9), Step(models.padded, batch, 9));
  EXPECT_FALSE(ZeroAtPads(models.packed.hidden_state(config->num_hidden_layers()), batch, config->hidden_size()));
}

TEST(PackedEncoder, HeadsThatReadPadsRefuseIt) {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/albert_golden.textproto");
  ASSERT_TRUE(config.ok());
  for (HeadKind kind : {HeadKind::kPretraining, HeadKind::kSpanExtraction}) {
    absl::StatusOr<Model> model = Model::Create(*config, {.kind = kind}, cpu::Precision::kFp32, TokenLayout::kPacked);
    EXPECT_EQ(model.status().code(), absl::StatusCode::kInvalidArgument) << HeadKindName(kind);
  }
}

}  // namespace
}  // namespace cloze
