// The fill-in probe's scoring on hand-made cases (a word of three sub-tokens with one wrong
// is wrong), its queries and batches on real tokenizer output, and a micro ALBERT run
// batched and one query at a time with the same outcome.
#include "probe/fill_in.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "model/model_config.h"
#include "tasks/conllu.h"
#include "tasks/testing/test_tokenizers.h"

namespace cloze::probe {
namespace {

using ::testing::ElementsAre;

// (rows, vocab) logits whose argmax in row i is argmax[i].
std::vector<float> LogitsWithArgmax(const std::vector<int32_t>& argmax, int vocab) {
  std::vector<float> logits(argmax.size() * vocab, 0.0f);
  for (size_t i = 0; i < argmax.size(); ++i) logits[i * vocab + argmax[i]] = 1.0f;
  return logits;
}

TEST(FillIn, EverySubTokenMustBeRight) {
  EXPECT_TRUE(WordRecovered(std::vector<int32_t>{7, 8, 9}, std::vector<int32_t>{7, 8, 9}));
  EXPECT_FALSE(WordRecovered(std::vector<int32_t>{7, 8, 1}, std::vector<int32_t>{7, 8, 9}));
  EXPECT_FALSE(WordRecovered(std::vector<int32_t>{1, 8, 9}, std::vector<int32_t>{7, 8, 9}));
  EXPECT_FALSE(WordRecovered(std::vector<int32_t>{7, 8}, std::vector<int32_t>{7, 8, 9}));
  EXPECT_FALSE(WordRecovered(std::vector<int32_t>{}, std::vector<int32_t>{}));
}

TEST(FillIn, ScoresHandMadeLogitsByClass) {
  const tasks::TaggingFeature feature;  // ScoreFillIn reads only the queries' own fields
  const std::vector<FillInQuery> queries = {
      {.feature = &feature, .positions = {1, 2, 3}, .original_ids = {1, 2, 3}, .word_class = "NOUN"},
      {.feature = &feature, .positions = {4}, .original_ids = {4}, .word_class = "DET"},
      {.feature = &feature, .positions = {5, 6, 7}, .original_ids = {1, 2, 3}, .word_class = "NOUN"},
  };
  // The first word's third sub-token predicted 5, not 3: the word is wrong.
  const std::vector<float> logits = LogitsWithArgmax({1, 2, 5, 4, 1, 2, 3}, 6);
  ClassAccuracy accuracy;
  ScoreFillIn(queries, logits, 6, accuracy);
  EXPECT_EQ(accuracy.by_class["NOUN"].right, 1);
  EXPECT_EQ(accuracy.by_class["NOUN"].count, 2);
  EXPECT_EQ(accuracy.by_class["DET"].right, 1);
  EXPECT_EQ(accuracy.overall.right, 2);
  EXPECT_EQ(accuracy.overall.count, 3);
}

std::vector<tasks::TaggedSentence> Sentences() {
  return {{.id = "a", .words = {"The", "unbelievably", "tall", "giraffe"}, .tags = {"DET", "ADV", "ADJ", "NOUN"}},
          {.id = "b", .words = {"It", "ran", "."}, .tags = {"PRON", "VERB", "PUNCT"}}};
}

TEST(FillIn, QueriesAndBatchMaskEachWordWhole) {
  std::unique_ptr<data::Tokenizer> albert = tasks::testing::SharedTokenizer("albert");
  ASSERT_NE(albert, nullptr);
  const std::vector<tasks::TaggedSentence> sentences = Sentences();
  absl::StatusOr<std::vector<tasks::TaggingFeature>> features =
      tasks::TaggingFeatures(sentences, tasks::UniversalPosTags(), *albert, 32);
  ASSERT_TRUE(features.ok()) << features.status();
  absl::StatusOr<std::vector<FillInQuery>> queries = FillInQueries(*features, sentences);
  ASSERT_TRUE(queries.ok()) << queries.status();
  ASSERT_EQ(queries->size(), 7u);
  const FillInQuery& long_word = (*queries)[1];
  EXPECT_EQ(long_word.word_class, "ADV");
  EXPECT_EQ(long_word.original_ids, albert->Encode("unbelievably"));
  ASSERT_GT(long_word.positions.size(), 1u) << "the test wants a word of several sub-tokens";
  EXPECT_EQ(long_word.positions.front(), 2);  // [CLS] The unbelievably...

  const Batch masked = FillInBatch(std::span(*queries).subspan(1, 5), albert->pad_id(), albert->mask_id(), true);
  EXPECT_EQ(masked.batch_size, 5);
  EXPECT_EQ(masked.seq_len, static_cast<int>((*features)[0].input_ids.size()));
  for (size_t i = 0; i < long_word.positions.size(); ++i) {
    EXPECT_EQ(masked.input_ids[long_word.positions[i]], albert->mask_id());
    EXPECT_EQ(masked.masked_positions[i], long_word.positions[i]);
  }
  EXPECT_EQ(masked.input_ids[1], (*features)[0].input_ids[1]);  // "The" is not masked in row 0
  // Row 3 is "It" of the shorter sentence b: padded.
  const int row3 = 3 * masked.seq_len;
  EXPECT_EQ(masked.input_ids[row3 + 1], albert->mask_id());
  EXPECT_EQ(masked.attention_mask[row3 + masked.seq_len - 1], 0);
  EXPECT_EQ(masked.input_ids[row3 + masked.seq_len - 1], albert->pad_id());
  EXPECT_THAT(masked.sentence_labels, ElementsAre(-1, -1, -1, -1, -1));
  const Batch copied = FillInBatch(std::span(*queries).subspan(1, 5), albert->pad_id(), albert->mask_id(), false);
  EXPECT_EQ(copied.masked_positions, masked.masked_positions);
  EXPECT_EQ(copied.input_ids[long_word.positions[0]], long_word.original_ids[0]);
}

TEST(FillIn, BatchedRunEqualsOneQueryAtATime) {
  std::unique_ptr<data::Tokenizer> albert = tasks::testing::SharedTokenizer("albert");
  ASSERT_NE(albert, nullptr);
  absl::StatusOr<ModelConfig> config = ParseModelConfigText(R"(
      model_type: "albert" vocab_size: 30000 embedding_size: 16 hidden_size: 32 num_hidden_layers: 2
      num_attention_heads: 2 intermediate_size: 64 num_hidden_groups: 1 inner_group_num: 1 hidden_act: "gelu_new" max_position_embeddings: 64
      type_vocab_size: 2 layer_norm_eps: 1e-12 initializer_range: 0.02)", "micro");
  ASSERT_TRUE(config.ok()) << config.status();
  Model model(*config);
  model.InitializeParameters(5);
  const std::vector<tasks::TaggedSentence> sentences = Sentences();
  absl::StatusOr<std::vector<tasks::TaggingFeature>> features =
      tasks::TaggingFeatures(sentences, tasks::UniversalPosTags(), *albert, 32);
  ASSERT_TRUE(features.ok());
  absl::StatusOr<std::vector<FillInQuery>> queries = FillInQueries(*features, sentences);
  ASSERT_TRUE(queries.ok());
  for (bool masked : {true, false}) {
    absl::StatusOr<ClassAccuracy> batched = RunFillIn(model, *queries, albert->pad_id(), albert->mask_id(), masked, 4);
    absl::StatusOr<ClassAccuracy> single = RunFillIn(model, *queries, albert->pad_id(), albert->mask_id(), masked, 1);
    ASSERT_TRUE(batched.ok() && single.ok()) << batched.status() << single.status();
    EXPECT_EQ(batched->overall.count, 7);
    EXPECT_EQ(batched->by_class.size(), 7u);
    EXPECT_EQ(batched->overall.right, single->overall.right);
    for (const auto& [name, tally] : single->by_class) EXPECT_EQ(batched->by_class[name].right, tally.right) << name;
  }
}

TEST(FillIn, QueriesOfAMissingSentenceAreAnError) {
  tasks::TaggingFeature feature{.example_index = 3};
  EXPECT_EQ(FillInQueries({feature}, Sentences()).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cloze::probe
