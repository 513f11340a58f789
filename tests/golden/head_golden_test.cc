// Golden parity of the fine-tuning heads with Hugging Face transformers.
//
// Fixtures from generate_head_golden.py: Albert/BertForSequenceClassification (3 classes,
// and num_labels = 1: regression with MSE), ...ForTokenClassification (5 labels, -100 on
// padding and some tokens), ...ForQuestionAnswering, on the tiny golden configs with fixed
// random weights, one padded two-segment batch, eval mode. cloze's Model with the matching
// head must reproduce the loss within 1e-5 relative, the logits within 1e-5 and every
// parameter gradient within 1e-4 (golden_testing.h), with exactly HF's parameter names (no
// pooler for tagging and spans).
//
// And a fine-tuning trajectory (finetune_trajectory.py): 20 steps of torch AdamW with
// global-norm clipping from one init over four cycled batches; cloze's model, clipping and
// AdamW, fed torch's per-step learning rates, must follow every step's loss and end within
// 1e-4 of torch's final parameters and moments.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/train_config.pb.h"
#include "tests/golden/golden_testing.h"
#include "kernels/cpu/clip.h"
#include "model/model.h"
#include "model/model_config.h"
#include "kernels/cpu/optimizer.h"
#include "checkpoint/safetensors.h"

namespace cloze {
namespace {

using namespace golden;  // NOLINT: the shared comparisons

struct HeadCase {
  const char* fixture;  // tests/golden/<fixture>.safetensors
  const char* config;   // tests/golden/<config>.textproto
  HeadSpec spec;
};

absl::StatusOr<SafetensorsFile> ReadFixture(const std::string& name) {
  return SafetensorsFile::Read("tests/golden/" + name + ".safetensors");
}

absl::StatusOr<Model> MakeModel(const std::string& config_name, const HeadSpec& spec) {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("tests/golden/" + config_name + ".textproto");
  if (!config.ok()) return config.status();
  return Model::Create(*config, spec);
}

// The fixture's encoder inputs under `prefix` ("input." or "input.batchN.").
Batch ReadInputs(const SafetensorsFile& fixture, const std::string& prefix) {
  Batch batch;
  const auto& dims = fixture.entries().at(prefix + "input_ids").shape;
  batch.batch_size = static_cast<int>(dims[0]);
  batch.seq_len = static_cast<int>(dims[1]);
  batch.input_ids = Unwrap(fixture.Int32(prefix + "input_ids"));
  batch.token_type_ids = Unwrap(fixture.Int32(prefix + "token_type_ids"));
  batch.attention_mask = Unwrap(fixture.Int32(prefix + "attention_mask"));
  return batch;
}

// The head's labels as the fixture names them, in Batch's layout (batch.h).
void ReadLabels(const SafetensorsFile& fixture, const HeadSpec& spec, Batch& batch) {
  switch (spec.kind) {
    case HeadKind::kSequenceClassification:
      if (spec.is_regression()) {
        batch.targets = Unwrap(fixture.Float32("input.targets"));
      } else {
        batch.labels = Unwrap(fixture.Int32("input.labels"));
      }
      return;
    case HeadKind::kTokenClassification: batch.labels = Unwrap(fixture.Int32("input.token_labels")); return;
    case HeadKind::kSpanExtraction: {
      batch.labels = Unwrap(fixture.Int32("input.start_positions"));
      const std::vector<int32_t> ends = Unwrap(fixture.Int32("input.end_positions"));
      batch.labels.insert(batch.labels.end(), ends.begin(), ends.end());
      return;
    }
    case HeadKind::kPretraining: return;
  }
}

class HeadParity : public ::testing::TestWithParam<HeadCase> {};

TEST_P(HeadParity, MatchesHuggingFace) {
  const HeadCase& c = GetParam();
  absl::StatusOr<SafetensorsFile> fixture = ReadFixture(c.fixture);
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  absl::StatusOr<Model> model = MakeModel(c.config, c.spec);
  ASSERT_TRUE(model.ok()) << model.status();
  ExpectSameTensorNames(*fixture, model->layout());
  LoadTensors(*fixture, model->layout(), "param.", model->parameters());

  Batch batch = ReadInputs(*fixture, "input.");
  ReadLabels(*fixture, c.spec, batch);
  absl::StatusOr<Losses> losses = model->Forward(batch, StepOptions{});
  ASSERT_TRUE(losses.ok()) << losses.status();
  const double loss = Unwrap(fixture->Float64("output.loss"))[0];
  EXPECT_NEAR(losses->total_loss, loss, kLossTolerance * std::fabs(loss));
  if (c.spec.kind == HeadKind::kSpanExtraction) {
    EXPECT_LT(RelativeError(model->logits(0), Unwrap(fixture->Float32("output.start_logits"))), kLogitsTolerance);
    EXPECT_LT(RelativeError(model->logits(1), Unwrap(fixture->Float32("output.end_logits"))), kLogitsTolerance);
    const double start = Unwrap(fixture->Float64("output.start_loss"))[0];
    EXPECT_NEAR(losses->terms[0].mean, start, kLossTolerance * std::fabs(start));
  } else {
    EXPECT_LT(RelativeError(model->logits(0), Unwrap(fixture->Float32("output.logits"))), kLogitsTolerance);
  }

  model->ZeroGradients();
  ASSERT_TRUE(model->Backward().ok());
  ExpectGradientsMatch(*fixture, *model);
}

constexpr HeadSpec kThreeClasses{HeadKind::kSequenceClassification, 3};
constexpr HeadSpec kRegression{HeadKind::kSequenceClassification, 1};
constexpr HeadSpec kFiveTags{HeadKind::kTokenClassification, 5};
constexpr HeadSpec kSpans{HeadKind::kSpanExtraction, 2};

INSTANTIATE_TEST_SUITE_P(
    Heads, HeadParity,
    ::testing::Values(HeadCase{"albert_seqcls_golden", "albert_golden", kThreeClasses},
                      HeadCase{"albert_regression_golden", "albert_golden", kRegression},
                      HeadCase{"albert_tokcls_golden", "albert_golden", kFiveTags},
                      HeadCase{"albert_qa_golden", "albert_golden", kSpans},
                      HeadCase{"bert_seqcls_golden", "bert_golden", kThreeClasses},
                      HeadCase{"bert_regression_golden", "bert_golden", kRegression},
                      HeadCase{"bert_tokcls_golden", "bert_golden", kFiveTags},
                      HeadCase{"bert_qa_golden", "bert_golden", kSpans}),
    [](const ::testing::TestParamInfo<HeadCase>& info) { return std::string(info.param.fixture); });

// A wrong head is caught: labels of another size are refused, naming the field.
TEST(HeadParity, RefusesLabelsOfTheWrongShape) {
  absl::StatusOr<Model> model = MakeModel("albert_golden", kFiveTags);
  ASSERT_TRUE(model.ok()) << model.status();
  Batch batch;
  batch.batch_size = 1;
  batch.seq_len = 4;
  batch.input_ids = batch.token_type_ids = {0, 0, 0, 0};
  batch.attention_mask = {1, 1, 1, 1};
  batch.labels = {1, 2, 3};
  absl::StatusOr<Losses> losses = model->Forward(batch, StepOptions{});
  ASSERT_FALSE(losses.ok());
  EXPECT_NE(losses.status().message().find("Batch.labels"), std::string_view::npos) << losses.status();
  batch.labels = {1, 2, 5, -100};
  losses = model->Forward(batch, StepOptions{});
  ASSERT_FALSE(losses.ok());
  EXPECT_NE(losses.status().message().find("Batch.labels[2]: 5"), std::string_view::npos) << losses.status();
}

TEST(HeadParity, BackwardWithoutForwardIsAnError) {
  absl::StatusOr<Model> model = MakeModel("albert_golden", kSpans);
  ASSERT_TRUE(model.ok()) << model.status();
  EXPECT_EQ(model->Backward().code(), absl::StatusCode::kFailedPrecondition);
}

// 20 AdamW steps from one init, against torch. The learning rates are torch's (HF's linear
// warmup and decay), so this checks the model, clipping and the optimizer together.
TEST(FineTuningTrajectory, FollowsTorchAdamW) {
  absl::StatusOr<SafetensorsFile> fixture = ReadFixture("albert_seqcls_trajectory");
  ASSERT_TRUE(fixture.ok()) << fixture.status();
  absl::StatusOr<Model> model = MakeModel("albert_golden", kThreeClasses);
  ASSERT_TRUE(model.ok()) << model.status();
  LoadTensors(*fixture, model->layout(), "param.", model->parameters());
  const auto& meta = fixture->metadata();
  OptimizerConfig config;
  config.set_kind(OptimizerConfig::ADAMW);
  config.set_learning_rate(std::stof(meta.at("learning_rate")));
  config.set_beta1(std::stof(meta.at("beta1")));
  config.set_beta2(std::stof(meta.at("beta2")));
  config.set_epsilon(std::stof(meta.at("epsilon")));
  config.set_weight_decay(std::stof(meta.at("weight_decay")));
  config.set_max_grad_norm(std::stof(meta.at("max_grad_norm")));
  ASSERT_TRUE(ValidateOptimizerConfig(config).ok());
  Optimizer optimizer(config, model->layout());

  const std::vector<double> step_losses = Unwrap(fixture->Float64("output.step_loss"));
  const std::vector<double> grad_norms = Unwrap(fixture->Float64("output.grad_norm"));
  const std::vector<double> rates = Unwrap(fixture->Float64("output.learning_rate"));
  const int batches = std::stoi(meta.at("batches"));
  for (size_t step = 0; step < step_losses.size(); ++step) {
    SCOPED_TRACE("step " + std::to_string(step));
    const std::string prefix = "input.batch" + std::to_string(step % batches) + ".";
    Batch batch = ReadInputs(*fixture, prefix);
    batch.labels = Unwrap(fixture->Int32(prefix + "labels"));
    model->ZeroGradients();
    absl::StatusOr<Losses> losses = model->Forward(batch, StepOptions{});
    ASSERT_TRUE(losses.ok()) << losses.status();
    EXPECT_NEAR(losses->total_loss, step_losses[step], 1e-5 * std::fabs(step_losses[step]));
    ASSERT_TRUE(model->Backward().ok());
    const ClipResult clip = ClipGradientsByGlobalNorm(model->gradients(), config.max_grad_norm());
    EXPECT_NEAR(clip.norm, grad_norms[step], 1e-5 * grad_norms[step]);
    optimizer.Step(model->parameters(), model->gradients(), static_cast<float>(rates[step]));
  }
  std::vector<float> expected(model->layout().total_size);
  LoadTensors(*fixture, model->layout(), "final.", expected);
  for (const NamedTensor& t : model->layout().tensors) {
    const std::span<const float> want(expected.data() + t.offset, t.size);
    EXPECT_LT(RelativeError(model->parameters().subspan(t.offset, t.size), want), 1e-4) << t.name;
  }
}

}  // namespace
}  // namespace cloze
