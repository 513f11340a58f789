// Golden parity with Hugging Face transformers (an independent implementation).
//
// The fixtures are written by generate_golden.py: AlbertForPreTraining and
// BertForPreTraining with fixed random weights, one batch, float32. cloze's model must
// reproduce the losses within 1e-5 relative and every parameter gradient within 1e-4
// (norm of the difference over the norm of the reference).
#include <cmath>
#include <set>
#include <string>

#include "gtest/gtest.h"
#include "model/model.h"
#include "model/model_config.h"
#include "checkpoint/safetensors.h"
#include "tests/golden/golden_testing.h"

namespace cloze {
namespace {

constexpr char kFormat[] = "cloze-golden-v1";

using namespace golden;  // NOLINT: the shared comparisons

struct Golden {
  ModelConfig config;
  SafetensorsFile fixture;
  Batch batch;
};

// The fixture `name` (its config, tensors and batch); an error, never an abort, for a
// config the model refuses or a fixture missing a tensor, so a bad fixture fails its test
// cleanly.
absl::StatusOr<Golden> Load(const std::string& name) {
  const std::string dir = "tests/golden/";
  absl::StatusOr<ModelConfig> config = LoadModelConfig(dir + name + ".textproto");
  if (!config.ok()) return config.status();
  absl::StatusOr<SafetensorsFile> fixture = SafetensorsFile::Read(dir + name + ".safetensors");
  if (!fixture.ok()) return fixture.status();
  Golden g{*config, *std::move(fixture), {}};
  const auto format = g.fixture.metadata().find("format");
  if (format == g.fixture.metadata().end() || format->second != kFormat) {
    return absl::FailedPreconditionError(name + ": not a " + kFormat + " fixture; regenerate with generate_golden.py");
  }
  const auto ids = g.fixture.entries().find("input.input_ids");
  if (ids == g.fixture.entries().end() || ids->second.shape.size() != 2) {
    return absl::InvalidArgumentError(name + ": no (B, T) input.input_ids");
  }
  g.batch.batch_size = static_cast<int>(ids->second.shape[0]);
  g.batch.seq_len = static_cast<int>(ids->second.shape[1]);
  const std::pair<const char*, std::vector<int32_t>*> fields[] = {
      {"input.input_ids", &g.batch.input_ids},
      {"input.token_type_ids", &g.batch.token_type_ids},
      {"input.attention_mask", &g.batch.attention_mask},
      {"input.masked_positions", &g.batch.masked_positions},
      {"input.masked_labels", &g.batch.masked_labels},
      {"input.sentence_labels", &g.batch.sentence_labels},
  };
  for (auto [key, field] : fields) {
    absl::StatusOr<std::vector<int32_t>> values = g.fixture.Int32(key);
    if (!values.ok()) return values.status();
    *field = *std::move(values);
  }
  return g;
}

// The fixture's parameters and cloze's layout name exactly the same tensors.
void RunParity(const std::string& name) {
  absl::StatusOr<Golden> loaded = Load(name);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Golden& g = *loaded;
  Model model(g.config);
  ExpectSameTensorNames(g.fixture, model.layout());
  LoadTensors(g.fixture, model.layout(), "param.", model.parameters());

  absl::StatusOr<Losses> losses = model.Forward(g.batch, StepOptions{});
  ASSERT_TRUE(losses.ok()) << losses.status();
  const double loss = Unwrap(g.fixture.Float64("output.loss"))[0];
  const double mlm = Unwrap(g.fixture.Float64("output.mlm_loss"))[0];
  const double sentence = Unwrap(g.fixture.Float64("output.sentence_loss"))[0];
  EXPECT_NEAR(losses->total_loss, loss, 1e-5 * std::fabs(loss));
  EXPECT_NEAR(losses->mlm().mean, mlm, 1e-5 * std::fabs(mlm));
  EXPECT_NEAR(losses->sentence().mean, sentence, 1e-5 * std::fabs(sentence));

  // Logits: the fixture lists the counted masked positions (the ignored padding entry
  // at the end has none).
  const std::vector<float> mlm_logits = Unwrap(g.fixture.Float32("output.mlm_logits"));
  EXPECT_LT(RelativeError(model.logits(0).first(mlm_logits.size()), mlm_logits), 1e-5);
  const std::vector<float> sentence_logits = Unwrap(g.fixture.Float32("output.sentence_logits"));
  EXPECT_LT(RelativeError(model.logits(1), sentence_logits), 1e-5);

  model.ZeroGradients();
  ASSERT_TRUE(model.Backward().ok());
  ExpectGradientsMatch(g.fixture, model);
}

TEST(GoldenParity, AlbertMatchesHuggingFace) { RunParity("albert_golden"); }
TEST(GoldenParity, BertMatchesHuggingFace) { RunParity("bert_golden"); }

// The comparison can fail: a small change to one shared weight moves losses and gradients
// beyond the tolerances.
TEST(GoldenParity, DetectsAPerturbedWeight) {
  absl::StatusOr<Golden> loaded = Load("albert_golden");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  Golden& g = *loaded;
  Model model(g.config);
  LoadTensors(g.fixture, model.layout(), "param.", model.parameters());
  const NamedTensor* ffn = nullptr;
  for (const NamedTensor& t : model.layout().tensors) {
    if (t.name.find("groups.1.albert_layers.0.ffn.weight") != std::string::npos) ffn = &t;
  }
  ASSERT_NE(ffn, nullptr);
  model.parameters()[ffn->offset + 3] += 0.1f;
  absl::StatusOr<Losses> losses = model.Forward(g.batch, StepOptions{});
  ASSERT_TRUE(losses.ok());
  const double loss = Unwrap(g.fixture.Float64("output.loss"))[0];
  EXPECT_GT(std::fabs(losses->total_loss - loss), 1e-5 * std::fabs(loss));
  model.ZeroGradients();
  ASSERT_TRUE(model.Backward().ok());
  const std::vector<float> expected = Unwrap(g.fixture.Float32("grad." + ffn->name));
  EXPECT_GT(RelativeError(model.gradients().subspan(ffn->offset, ffn->size), expected), 1e-4);
}

// A config the model refuses is an error from Load, not an abort of the test binary.
TEST(GoldenParity, RefusedConfigIsAnError) {
  absl::StatusOr<Golden> loaded = Load("refused_golden");
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("refused_golden.textproto"), std::string_view::npos) << loaded.status();
}

}  // namespace
}  // namespace cloze
