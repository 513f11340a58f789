// Model behaviour beyond the golden parity: dropout wiring (checked by finite
// differences in training mode), determinism, accumulation, validation and init.
#include "model/model.h"

#include <cmath>
#include <random>

#include "gtest/gtest.h"
#include "model/model_config.h"

namespace cloze {
namespace {

ModelConfig TinyConfig(const char* path, float dropout) {
  absl::StatusOr<ModelConfig> config = LoadModelConfig(path);
  EXPECT_TRUE(config.ok()) << config.status();
  config->set_hidden_dropout_prob(dropout);
  config->set_attention_probs_dropout_prob(dropout);
  config->set_classifier_dropout_prob(dropout);
  return *config;
}

Batch RandomBatch(const ModelConfig& config, int b, int t, uint64_t seed) {
  std::mt19937 rng(seed);
  Batch batch;
  batch.batch_size = b;
  batch.seq_len = t;
  for (int i = 0; i < b * t; ++i) {
    batch.input_ids.push_back(std::uniform_int_distribution<int>(0, config.vocab_size() - 1)(rng));
    batch.token_type_ids.push_back((i % t) >= t / 2 ? 1 : 0);
    batch.attention_mask.push_back((i / t) == 1 && (i % t) >= t - 3 ? 0 : 1);
  }
  for (int e = 0; e < b; ++e) {
    for (int k = 1; k < t; k += 3) {
      batch.masked_positions.push_back(e * t + k);
      batch.masked_labels.push_back(std::uniform_int_distribution<int>(0, config.vocab_size() - 1)(rng));
    }
    batch.sentence_labels.push_back(e % 2);
  }
  return batch;
}

double Loss(Model& model, const Batch& batch, const StepOptions& options) {
  absl::StatusOr<Losses> losses = model.Forward(batch, options);
  EXPECT_TRUE(losses.ok()) << losses.status();
  return losses->total_loss;
}

// With dropout active at every site, backward must be the gradient of the same
// (masked) function: compare with central differences in float, on the largest
// gradient entries of every tensor.
void CheckGradientsWithDropout(const char* config_path) {
  const ModelConfig config = TinyConfig(config_path, 0.2f);
  Model model(config);
  model.InitializeParameters(3);
  // Larger weights than the 0.02 init, so fewer gradients are negligibly small.
  for (float& w : model.parameters()) w *= 3.0f;
  const Batch batch = RandomBatch(config, 3, 10, 5);
  const StepOptions options{.training = true, .dropout_seed = 77};
  Loss(model, batch, options);
  model.ZeroGradients();
  ASSERT_TRUE(model.Backward().ok());
  const std::vector<float> analytic(model.gradients().begin(), model.gradients().end());

  int checked = 0;
  for (const NamedTensor& t : model.layout().tensors) {
    int64_t best = t.offset;
    for (int64_t i = t.offset; i < t.offset + t.size; ++i) {
      if (std::fabs(analytic[i]) > std::fabs(analytic[best])) best = i;
    }
    if (std::fabs(analytic[best]) < 1e-3) continue;  // e.g. the key bias: exactly zero
    const float saved = model.parameters()[best];
    const float step = 1e-3f;
    model.parameters()[best] = saved + step;
    const double plus = Loss(model, batch, options);
    model.parameters()[best] = saved - step;
    const double minus = Loss(model, batch, options);
    model.parameters()[best] = saved;
    const double numeric = (plus - minus) / (2.0 * step);
    EXPECT_NEAR(analytic[best], numeric, 0.05 * std::fabs(numeric) + 1e-3) << t.name;
    ++checked;
  }
  EXPECT_GT(checked, static_cast<int>(model.layout().tensors.size()) * 3 / 4);
}

TEST(Model, AlbertGradientsWithDropout) { CheckGradientsWithDropout("tests/golden/albert_golden.textproto"); }
TEST(Model, BertGradientsWithDropout) { CheckGradientsWithDropout("tests/golden/bert_golden.textproto"); }

TEST(Model, DropoutOnlyInTrainingAndReproducibleFromItsSeed) {
  const ModelConfig config = TinyConfig("tests/golden/albert_golden.textproto", 0.1f);
  Model model(config);
  model.InitializeParameters(1);
  const Batch batch = RandomBatch(config, 2, 8, 2);
  const double eval_a = Loss(model, batch, {});
  const double eval_b = Loss(model, batch, {.training = false, .dropout_seed = 9});
  EXPECT_EQ(eval_a, eval_b);
  const double train_a = Loss(model, batch, {.training = true, .dropout_seed = 9});
  const double train_b = Loss(model, batch, {.training = true, .dropout_seed = 9});
  const double train_c = Loss(model, batch, {.training = true, .dropout_seed = 10});
  EXPECT_EQ(train_a, train_b);
  EXPECT_NE(train_a, eval_a);
  EXPECT_NE(train_a, train_c);
}

TEST(Model, BackwardAccumulatesScaledGradients) {
  const ModelConfig config = TinyConfig("tests/golden/albert_golden.textproto", 0.0f);
  Model model(config);
  model.InitializeParameters(4);
  const Batch batch = RandomBatch(config, 2, 8, 3);
  Loss(model, batch, {});
  model.ZeroGradients();
  ASSERT_TRUE(model.Backward().ok());
  const std::vector<float> once(model.gradients().begin(), model.gradients().end());
  model.ZeroGradients();
  ASSERT_TRUE(model.Backward(0.5f).ok());
  ASSERT_TRUE(model.Backward(0.5f).ok());
  for (size_t i = 0; i < once.size(); ++i) {
    ASSERT_NEAR(model.gradients()[i], once[i], 1e-6f * (1.0f + std::fabs(once[i]))) << i;
  }
}

// The rows [first, first + count) of a batch, as one worker of a data-parallel step sees
// its share.
Batch Rows(const Batch& batch, int first, int count) {
  const int t = batch.seq_len;
  Batch part;
  part.batch_size = count;
  part.seq_len = t;
  for (auto [from, to] : {std::pair{&batch.input_ids, &part.input_ids}, {&batch.token_type_ids, &part.token_type_ids},
                          {&batch.attention_mask, &part.attention_mask}}) {
    to->assign(from->begin() + first * t, from->begin() + (first + count) * t);
  }
  for (size_t i = 0; i < batch.masked_positions.size(); ++i) {
    const int row = batch.masked_positions[i] / t;
    if (row < first || row >= first + count) continue;
    part.masked_positions.push_back(batch.masked_positions[i] - first * t);
    part.masked_labels.push_back(batch.masked_labels[i]);
  }
  part.sentence_labels.assign(batch.sentence_labels.begin() + first, batch.sentence_labels.begin() + first + count);
  return part;
}

// What a data-parallel step relies on: a batch split in two halves, each normalised by the
// whole step's prediction counts and keyed by its first example for dropout, sums to the
// gradient of the whole batch, with the same losses, up to float summation order (the
// matrix products see other shapes). Different dropout masks would differ by ~1e-2.
TEST(Model, SplitBatchesSumToTheWholeBatchsGradient) {
  const ModelConfig config = TinyConfig("tests/golden/albert_golden.textproto", 0.1f);
  Batch whole = RandomBatch(config, 4, 10, 9);
  whole.masked_labels[1] = -1;  // uneven prediction counts between the halves
  Model one(config);
  const LossNormalizer normalizer = one.CountPredictions(whole);
  const int64_t mlm_count = normalizer.terms[kMlmTerm], sentence_count = normalizer.terms[kSentenceTerm];
  one.InitializeParameters(4);
  absl::StatusOr<Losses> all = one.Forward(whole, {.training = true, .dropout_seed = 5});
  ASSERT_TRUE(all.ok());
  ASSERT_TRUE(one.Backward(normalizer).ok());

  Model split(config);
  split.InitializeParameters(4);
  double mlm_sum = 0, sentence_sum = 0;
  for (int first : {0, 2}) {
    absl::StatusOr<Losses> half =
        split.Forward(Rows(whole, first, 2), {.training = true, .dropout_seed = 5, .first_example = first});
    ASSERT_TRUE(half.ok());
    ASSERT_TRUE(split.Backward(normalizer).ok());
    mlm_sum += half->mlm().sum;
    sentence_sum += half->sentence().sum;
  }
  EXPECT_NEAR(mlm_sum / mlm_count, all->mlm().mean, 1e-6 * std::abs(all->mlm().mean));
  EXPECT_NEAR(sentence_sum / sentence_count, all->sentence().mean, 1e-6 * std::abs(all->sentence().mean));
  double norm = 0, worst = 0;
  for (float g : one.gradients()) norm = std::max(norm, double{std::abs(g)});
  for (size_t i = 0; i < one.gradients().size(); ++i) {
    worst = std::max(worst, double{std::abs(one.gradients()[i] - split.gradients()[i])});
  }
  EXPECT_LT(worst, 1e-5 * norm);
}

TEST(Model, IgnoredLabelsDoNotCount) {
  const ModelConfig config = TinyConfig("tests/golden/bert_golden.textproto", 0.0f);
  Model model(config);
  model.InitializeParameters(5);
  Batch batch = RandomBatch(config, 2, 8, 4);
  absl::StatusOr<Losses> base = model.Forward(batch, {});
  ASSERT_TRUE(base.ok());
  batch.masked_positions.push_back(3);
  batch.masked_labels.push_back(-1);
  batch.sentence_labels[1] = -1;
  absl::StatusOr<Losses> padded = model.Forward(batch, {});
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(padded->mlm().count, base->mlm().count);
  EXPECT_DOUBLE_EQ(padded->mlm().mean, base->mlm().mean);
  EXPECT_EQ(padded->sentence().count, 1);
}

TEST(Model, InvalidBatchesNameTheFieldAndLeaveTheModelUsable) {
  const ModelConfig config = TinyConfig("tests/golden/albert_golden.textproto", 0.0f);
  Model model(config);
  const Batch good = RandomBatch(config, 2, 8, 6);
  struct Case {
    void (*mutate)(Batch&);
    const char* field;
  };
  const Case cases[] = {
      {[](Batch& b) { b.input_ids[5] = 120; }, "Batch.input_ids[5]"},
      {[](Batch& b) { b.input_ids.pop_back(); }, "Batch.input_ids"},
      {[](Batch& b) { b.token_type_ids[0] = 2; }, "Batch.token_type_ids[0]"},
      {[](Batch& b) { b.attention_mask[1] = 3; }, "Batch.attention_mask[1]"},
      {[](Batch& b) { b.masked_positions[0] = 16; }, "Batch.masked_positions[0]"},
      {[](Batch& b) { b.masked_labels[2] = 1000; }, "Batch.masked_labels[2]"},
      {[](Batch& b) { b.sentence_labels[0] = 2; }, "Batch.sentence_labels[0]"},
      {[](Batch& b) { b.seq_len = 17; }, "Batch.seq_len"},
  };
  for (const Case& c : cases) {
    Batch bad = good;
    c.mutate(bad);
    absl::StatusOr<Losses> losses = model.Forward(bad, {});
    ASSERT_FALSE(losses.ok()) << c.field;
    EXPECT_NE(losses.status().message().find(c.field), std::string::npos) << losses.status();
  }
  EXPECT_TRUE(model.Forward(good, {}).ok());
}

TEST(Model, InitializationIsTruncatedNormalAndDeterministic) {
  const ModelConfig config = TinyConfig("configs/albert-tiny.textproto", 0.0f);
  Model a(config), b(config), c(config);
  a.InitializeParameters(11);
  b.InitializeParameters(11);
  c.InitializeParameters(12);
  EXPECT_TRUE(std::equal(a.parameters().begin(), a.parameters().end(), b.parameters().begin()));
  EXPECT_FALSE(std::equal(a.parameters().begin(), a.parameters().end(), c.parameters().begin()));
  const TensorSlot words = a.layout().word_embeddings;
  double sum = 0, squares = 0, max = 0;
  for (int64_t i = words.offset; i < words.offset + words.size; ++i) {
    const double w = a.parameters()[i];
    sum += w;
    squares += w * w;
    max = std::max(max, std::fabs(w));
  }
  const double n = words.size;
  // A normal truncated at ±2σ has standard deviation 0.8796σ.
  EXPECT_NEAR(std::sqrt(squares / n - (sum / n) * (sum / n)), 0.8796 * 0.02, 0.001);
  EXPECT_LE(max, 0.04 + 1e-7);
  for (int64_t i = 0; i < a.layout().embedding_norm_weight.size; ++i) {
    EXPECT_EQ(a.parameters()[a.layout().embedding_norm_weight.offset + i], 1.0f);
    EXPECT_EQ(a.parameters()[a.layout().embedding_norm_bias.offset + i], 0.0f);
  }
}

}  // namespace
}  // namespace cloze
