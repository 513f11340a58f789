// The linear probes' items (words, head–dependent pairs), the frozen word vectors of a
// micro ALBERT (a word = the mean of its sub-tokens, at every layer), and the per-layer fit
// finding the layer that carries the classes.
#include "probe/linear_probes.h"

#include <random>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/encoder.h"
#include "model/model_config.h"
#include "tasks/conllu.h"
#include "tasks/testing/test_tokenizers.h"

namespace cloze::probe {
namespace {

using ::testing::ElementsAre;

std::vector<tasks::TaggedSentence> Sentences() {
  // "From the AP comes this story :" (EWT dev's first sentence), and a two-word one.
  return {{.id = "s1",
           .words = {"From", "the", "AP", "comes", "this", "story", ":"},
           .tags = {"ADP", "DET", "PROPN", "VERB", "DET", "NOUN", "PUNCT"},
           .heads = {3, 3, 4, 0, 6, 4, 4},
           .relations = {"case", "det", "obl:from", "root", "det", "nsubj", "punct"}},
          {.id = "s2", .words = {"Unbelievable", "!"}, .tags = {"ADJ", "PUNCT"}, .heads = {0, 1},
           .relations = {"root", "punct"}}};
}

TEST(LinearProbes, WordAndPairItems) {
  const std::vector<tasks::TaggedSentence> sentences = Sentences();
  int64_t rows = 0;
  EXPECT_THAT(FirstWordRows(sentences, &rows), ElementsAre(0, 7));
  EXPECT_EQ(rows, 9);
  absl::StatusOr<ProbeItems> upos = UposItems(sentences, tasks::UniversalPosTags());
  ASSERT_TRUE(upos.ok());
  EXPECT_EQ(upos->size(), 9);
  EXPECT_EQ(tasks::UniversalPosTags()[upos->labels[0]], "ADP");
  EXPECT_FALSE(UposItems(sentences, {"ADP"}).ok());

  EXPECT_EQ(UniversalRelation("obl:from"), "obl");
  const std::vector<std::string> relations = CollectRelations(sentences);
  EXPECT_THAT(relations, ElementsAre("case", "det", "nsubj", "obl", "punct"));  // no root
  int64_t unseen = 0;
  const ProbeItems pairs = DeprelItems(sentences, {"case", "det", "nsubj", "obl"}, &unseen);
  EXPECT_EQ(unseen, 2);  // the two punct
  // (dependent, head) rows: From→AP, the→AP, AP→comes, this→story, story→comes.
  EXPECT_THAT(pairs.rows, ElementsAre(0, 2, 1, 2, 2, 3, 4, 5, 5, 3));
  EXPECT_THAT(pairs.labels, ElementsAre(0, 1, 3, 1, 2));
}

TEST(LinearProbes, WordVectorsAreMeansOfSubTokensAtEveryLayer) {
  std::unique_ptr<data::Tokenizer> albert = tasks::testing::SharedTokenizer("albert");
  ASSERT_NE(albert, nullptr);
  absl::StatusOr<ModelConfig> config = ParseModelConfigText(R"(
      model_type: "albert" vocab_size: 30000 embedding_size: 16 hidden_size: 32 num_hidden_layers: 2
      num_attention_heads: 2 intermediate_size: 64 num_hidden_groups: 1 inner_group_num: 1
      hidden_act: "gelu_new" max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12
      initializer_range: 0.02)", "micro");
  ASSERT_TRUE(config.ok()) << config.status();
  Model model(*config);
  model.InitializeParameters(3);
  const std::vector<tasks::TaggedSentence> sentences = Sentences();
  absl::StatusOr<std::vector<tasks::TaggingFeature>> features =
      tasks::TaggingFeatures(sentences, tasks::UniversalPosTags(), *albert, 32);
  ASSERT_TRUE(features.ok());
  int64_t rows = 0;
  const std::vector<int64_t> first = FirstWordRows(sentences, &rows);
  absl::StatusOr<LayerVectors> vectors = WordVectors(model, *features, first, rows, albert->pad_id(), 2);
  ASSERT_TRUE(vectors.ok()) << vectors.status();
  EXPECT_EQ(vectors->layers(), 3);
  EXPECT_EQ(vectors->rows(), 9);

  // Sentence 2 alone, unpadded: "Unbelievable" is several sub-tokens, its vector their mean.
  const tasks::TaggingFeature& f = (*features)[1];
  Batch batch{.batch_size = 1, .seq_len = static_cast<int>(f.input_ids.size()), .input_ids = f.input_ids,
              .token_type_ids = f.token_type_ids, .attention_mask = f.attention_mask};
  Encoder encoder(*config, model.layout());
  encoder.Forward(model.parameters().data(), batch, StepOptions{}, false);
  std::vector<int> tokens;
  for (int t = 0; t < batch.seq_len; ++t) {
    if (f.word_of_token[t] == 0) tokens.push_back(t);
  }
  ASSERT_GT(tokens.size(), 1u);
  for (int layer = 0; layer < 3; ++layer) {
    for (int j = 0; j < 32; ++j) {
      float mean = 0;
      for (int t : tokens) mean += encoder.hidden_state(layer)[t * 32 + j] / tokens.size();
      EXPECT_NEAR(vectors->vector(layer, 7)[j], mean, 1e-4) << "layer " << layer << " dim " << j;
    }
  }
}

// Two layers of 4-d vectors for `n` rows of 3 classes: layer 0 is noise, layer 1 holds the class.
LayerVectors TwoLayers(int n, uint32_t seed, std::vector<int32_t>& labels) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0, 1);
  LayerVectors v{.dim = 4, .num_rows = n, .by_layer = {std::vector<float>(n * 4), std::vector<float>(n * 4)}};
  for (int i = 0; i < n; ++i) {
    labels.push_back(i % 3);
    for (int j = 0; j < 4; ++j) {
      v.by_layer[0][i * 4 + j] = noise(rng);
      v.by_layer[1][i * 4 + j] = noise(rng) * 0.3f + (j == i % 3 ? 2.0f : 0.0f);
    }
  }
  return v;
}

TEST(LinearProbes, EveryLayerIsProbedAndTheInformativeOneWins) {
  std::vector<int32_t> train_labels, dev_labels, test_labels;
  const LayerVectors train = TwoLayers(300, 1, train_labels), dev = TwoLayers(90, 2, dev_labels),
                     test = TwoLayers(90, 3, test_labels);
  auto items = [](const std::vector<int32_t>& labels) {
    ProbeItems items;
    for (size_t i = 0; i < labels.size(); ++i) items.rows.push_back(i), items.labels.push_back(labels[i]);
    return items;
  };
  absl::StatusOr<std::vector<ClassAccuracy>> by_layer =
      ProbeEveryLayer({&train, items(train_labels)}, {&dev, items(dev_labels)}, {&test, items(test_labels)},
                      {"a", "b", "c"}, {});
  ASSERT_TRUE(by_layer.ok()) << by_layer.status();
  ASSERT_EQ(by_layer->size(), 2u);
  EXPECT_LT((*by_layer)[0].overall.accuracy(), 0.6);
  EXPECT_GT((*by_layer)[1].overall.accuracy(), 0.95);
  EXPECT_EQ((*by_layer)[1].overall.count, 90);
  EXPECT_EQ((*by_layer)[1].by_class.at("b").count, 30);
}

}  // namespace
}  // namespace cloze::probe
