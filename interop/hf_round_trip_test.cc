// Export then import gives back the model exactly: every head on ALBERT and BERT, config,
// label names and architecture included; with a tokenizer, the vocabulary travels along and
// its size is checked against the config on both sides.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "data/testing/shared_data.h"
#include "gtest/gtest.h"
#include "interop/hf_export.h"
#include "interop/hf_import.h"
#include "interop/hf_names.h"
#include "interop/hf_testing.h"
#include "interop/hf_tokenizer.h"
#include "model/model.h"
#include "model/model_config.h"

namespace cloze::interop {
namespace {

using namespace testing;  // NOLINT: the shared helpers

ModelConfig GoldenConfig(const std::string& name) {
  return Unwrap(LoadModelConfig("tests/golden/" + name + ".textproto"));
}

std::vector<float> RandomParameters(const ModelConfig& config, const HeadSpec& head, uint64_t seed) {
  absl::StatusOr<Model> model = Model::Create(config, head);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return {};
  model->InitializeParameters(seed);
  return std::vector<float>(model->parameters().begin(), model->parameters().end());
}

struct RoundTripCase {
  HeadSpec head;
  std::vector<std::string> labels;
};

TEST(HfRoundTrip, ExportThenImportIsIdentity) {
  const std::vector<RoundTripCase> cases = {
      {{HeadKind::kPretraining}, {}},
      {{HeadKind::kSequenceClassification, 3}, {"entailment", "neutral", "contradiction"}},
      {{HeadKind::kSequenceClassification, 1}, {}},
      {{HeadKind::kTokenClassification, 5}, {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"}},
      {{HeadKind::kSpanExtraction}, {}},
  };
  for (const std::string family : {"albert_golden", "bert_golden"}) {
    ModelConfig config = GoldenConfig(family);
    // Distinct non-default dropouts, so a field that does not travel (or travels into
    // another) shows.
    config.set_hidden_dropout_prob(0.125f);
    config.set_attention_probs_dropout_prob(0.25f);
    config.set_classifier_dropout_prob(0.375f);
    for (const RoundTripCase& c : cases) {
      SCOPED_TRACE(family + " " + HeadKindName(c.head.kind) + " " + std::to_string(c.head.num_labels));
      const std::vector<float> parameters = RandomParameters(config, c.head, 5);
      const std::string folder =
          FreshFolder(family + "_" + HeadKindName(c.head.kind) + std::to_string(c.head.num_labels));
      std::filesystem::remove(folder);  // the export creates it
      ASSERT_TRUE(ExportHuggingFace(config, c.head, c.labels, parameters, "", folder).ok());

      absl::StatusOr<HfImport> imported = ImportHuggingFace(folder, c.head, /*seed=*/99);
      ASSERT_TRUE(imported.ok()) << imported.status();
      EXPECT_EQ(imported->parameters, parameters);
      EXPECT_TRUE(imported->report.missing.empty());
      EXPECT_TRUE(imported->report.unexpected.empty());
      EXPECT_EQ(imported->config.DebugString(), config.DebugString());
      EXPECT_EQ(imported->architecture, HfArchitecture(config, c.head));
      if (c.head.kind == HeadKind::kSequenceClassification && c.head.is_regression()) {
        EXPECT_EQ(imported->label_names, (std::vector<std::string>{"LABEL_0"}));
      } else {
        EXPECT_EQ(imported->label_names, c.labels);
      }
      EXPECT_EQ(imported->tokenizer, "");
    }
  }
}

TEST(HfRoundTrip, ConfigJsonHasHfFields) {
  const ModelConfig config = GoldenConfig("albert_golden");
  const HeadSpec head{HeadKind::kSequenceClassification, 1};
  const std::string folder = ::testing::TempDir() + "/albert_regression_config";
  std::filesystem::remove_all(folder);
  ASSERT_TRUE(ExportHuggingFace(config, head, {}, RandomParameters(config, head, 1), "", folder).ok());
  std::ifstream in(folder + "/config.json");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* field :
       {"\"AlbertForSequenceClassification\"", "\"problem_type\": \"regression\"", "\"model_type\": \"albert\"",
        "\"num_labels\": 1", "\"layer_norm_eps\": 1e-12", "\"num_hidden_groups\": 2", "\"embedding_size\": 16"}) {
    EXPECT_TRUE(absl::StrContains(text, field)) << field << " not in\n" << text;
  }
}

TEST(HfRoundTrip, RefusesANonEmptyFolder) {
  const ModelConfig config = GoldenConfig("bert_golden");
  const HeadSpec head{HeadKind::kSpanExtraction};
  const std::string folder = FreshFolder("not_empty");
  WriteText(folder + "/notes.txt", "someone else's");
  const absl::Status status = ExportHuggingFace(config, head, {}, RandomParameters(config, head, 1), "", folder);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), folder)) << status;
  EXPECT_FALSE(std::filesystem::exists(folder + "/config.json"));
}

TEST(HfRoundTrip, RefusesWrongParametersAndLabels) {
  const ModelConfig config = GoldenConfig("bert_golden");
  const HeadSpec head{HeadKind::kSequenceClassification, 3};
  std::vector<float> parameters = RandomParameters(config, head, 1);
  const std::string folder = ::testing::TempDir() + "/refused_export";
  EXPECT_EQ(ExportHuggingFace(config, head, {"a", "b"}, parameters, "", folder).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExportHuggingFace(config, head, {"a", "b", "a"}, parameters, "", folder).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ExportHuggingFace(config, {HeadKind::kSpanExtraction}, {}, parameters, "", folder).code(),
            absl::StatusCode::kInvalidArgument);
  parameters.pop_back();
  EXPECT_EQ(ExportHuggingFace(config, head, {}, parameters, "", folder).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(folder));
}

// BERT uncased's vocab.txt with a model of its vocabulary size: exported as vocab.txt with
// a tokenizer_config.json, found again on import and accepted by the size check.
TEST(HfRoundTrip, TokenizerTravelsAndIsChecked) {
  const std::string vocab = Unwrap(data::testing::SharedDataPath("vocab/bert-base-uncased-vocab.txt"));
  ASSERT_FALSE(vocab.empty());
  ModelConfig config = GoldenConfig("bert_golden");
  config.set_vocab_size(30522);
  const HeadSpec head{HeadKind::kTokenClassification, 2};
  const std::vector<float> parameters = RandomParameters(config, head, 3);
  const std::string folder = ::testing::TempDir() + "/bert_with_vocab";
  std::filesystem::remove_all(folder);
  ASSERT_TRUE(ExportHuggingFace(config, head, {}, parameters, "wordpiece:" + vocab, folder).ok());
  EXPECT_TRUE(std::filesystem::exists(folder + "/tokenizer_config.json"));

  absl::StatusOr<HfImport> imported = ImportHuggingFace(folder, head, 1);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->tokenizer, "wordpiece:" + folder + "/vocab.txt");
  EXPECT_TRUE(CheckTokenizerVocabulary(imported->tokenizer, imported->config, folder + "/config.json").ok());
  EXPECT_EQ(imported->parameters, parameters);
}

// A vocabulary of another size than the embedding table is refused on export and reported
// by the import-side check, naming the tokenizer and both sizes.
TEST(HfRoundTrip, VocabularySizeMismatchIsAnError) {
  const std::string vocab = Unwrap(data::testing::SharedDataPath("vocab/bert-base-uncased-vocab.txt"));
  const ModelConfig config = GoldenConfig("bert_golden");  // vocab_size 110
  const HeadSpec head{HeadKind::kSpanExtraction};
  const std::vector<float> parameters = RandomParameters(config, head, 3);
  const std::string folder = ::testing::TempDir() + "/bert_vocab_mismatch";
  std::filesystem::remove_all(folder);
  const absl::Status refused = ExportHuggingFace(config, head, {}, parameters, "wordpiece:" + vocab, folder);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), vocab)) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "30522")) << refused;
  EXPECT_TRUE(absl::StrContains(refused.message(), "110")) << refused;
  EXPECT_FALSE(std::filesystem::exists(folder));

  ASSERT_TRUE(ExportHuggingFace(config, head, {}, parameters, "", folder).ok());
  std::filesystem::copy_file(vocab, folder + "/vocab.txt");
  absl::StatusOr<HfImport> imported = ImportHuggingFace(folder, head, 1);
  ASSERT_TRUE(imported.ok()) << imported.status();
  const absl::Status mismatch =
      CheckTokenizerVocabulary(imported->tokenizer, imported->config, folder + "/config.json");
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument) << mismatch;
  EXPECT_TRUE(absl::StrContains(mismatch.message(), folder + "/vocab.txt")) << mismatch;
  EXPECT_TRUE(absl::StrContains(mismatch.message(), folder + "/config.json")) << mismatch;
  EXPECT_TRUE(absl::StrContains(mismatch.message(), "30522")) << mismatch;
  EXPECT_TRUE(absl::StrContains(mismatch.message(), "vocab_size 110")) << mismatch;
}

}  // namespace
}  // namespace cloze::interop
