// Importing the golden fixtures' parameters (tests/golden: HF's own state dicts of
// Albert/BertForPreTraining, ...ForSequenceClassification (and regression),
// ...ForTokenClassification, ...ForQuestionAnswering) written as HF folders: every tensor
// loads by name with nothing missing or unexpected, the values are the fixture's, and the
// imported model reproduces HF's logits within 1e-5. Then the same folders under other
// heads: the report lists exactly what fine-tuning from them adds and drops.
#include <algorithm>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "interop/hf_import.h"
#include "interop/hf_testing.h"
#include "model/model.h"
#include "model/parameter_layout.h"
#include "checkpoint/safetensors.h"

namespace cloze::interop {
namespace {

using namespace testing;  // NOLINT: the shared helpers

constexpr double kLogitsTolerance = 1e-5;

struct GoldenCase {
  std::string fixture;
  HeadSpec head;
  std::vector<const char*> logits;  // output names of Model::logits(0), (1)
};

std::vector<GoldenCase> Cases() {
  const HeadSpec pretraining{HeadKind::kPretraining};
  const HeadSpec seqcls{HeadKind::kSequenceClassification, 3}, regression{HeadKind::kSequenceClassification, 1};
  const HeadSpec tokcls{HeadKind::kTokenClassification, 5}, span{HeadKind::kSpanExtraction};
  std::vector<GoldenCase> cases;
  for (const std::string family : {"albert", "bert"}) {
    auto name = [&](const char* suffix) { return family + suffix; };
    cases.push_back({name("_golden"), pretraining, {"output.mlm_logits", "output.sentence_logits"}});
    cases.push_back({name("_seqcls_golden"), seqcls, {"output.logits"}});
    cases.push_back({name("_regression_golden"), regression, {"output.logits"}});
    cases.push_back({name("_tokcls_golden"), tokcls, {"output.logits"}});
    cases.push_back({name("_qa_golden"), span, {"output.start_logits", "output.end_logits"}});
  }
  return cases;
}

// The fixture as an HF folder: its config (metadata "config", HF's to_dict) and param.*.
std::string WriteFixtureFolder(const SafetensorsFile& fixture, const std::string& name) {
  const std::string folder = FreshFolder(name);
  WriteHfFolder(folder, fixture.metadata().at("config"), TensorsWithPrefix(fixture, "param."));
  return folder;
}

TEST(HfImportGolden, EveryFixtureImportsExactlyAndReproducesHfLogits) {
  for (const GoldenCase& c : Cases()) {
    SCOPED_TRACE(c.fixture);
    const SafetensorsFile fixture = Unwrap(SafetensorsFile::Read("tests/golden/" + c.fixture + ".safetensors"));
    const std::string folder = WriteFixtureFolder(fixture, c.fixture);
    absl::StatusOr<HfImport> imported = ImportHuggingFace(folder, c.head, /*seed=*/7);
    ASSERT_TRUE(imported.ok()) << imported.status();
    EXPECT_TRUE(imported->report.missing.empty()) << imported->report.missing.front();
    EXPECT_TRUE(imported->report.unexpected.empty()) << imported->report.unexpected.front();
    EXPECT_EQ(imported->tokenizer, "");

    absl::StatusOr<Model> created = Model::Create(imported->config, c.head);
    ASSERT_TRUE(created.ok()) << created.status();
    Model& model = *created;
    ASSERT_EQ(model.parameters().size(), imported->parameters.size());
    EXPECT_EQ(imported->report.loaded.size(), model.layout().tensors.size());
    for (const NamedTensor& t : model.layout().tensors) {
      const std::vector<float> expected = Unwrap(fixture.Float32("param." + t.name));
      EXPECT_TRUE(std::equal(expected.begin(), expected.end(), imported->parameters.begin() + t.offset)) << t.name;
    }
    std::copy(imported->parameters.begin(), imported->parameters.end(), model.parameters().begin());
    ASSERT_TRUE(model.Forward(ReadGoldenBatch(fixture, c.head), StepOptions{}).ok());
    for (size_t i = 0; i < c.logits.size(); ++i) {
      const std::vector<float> expected = Unwrap(fixture.Float32(c.logits[i]));
      // The MLM fixture lists the counted masked positions only (the padding entry at the end
      // has none).
      const std::span<const float> actual = model.logits(static_cast<int>(i)).first(expected.size());
      EXPECT_LT(MaxAbsDifference(actual, expected), kLogitsTolerance) << c.logits[i];
    }
  }
}

// Fine-tuning a classifier from a pretraining checkpoint: the classifier is new (missing,
// drawn from the seed as a fresh model's), the pretraining heads are dropped (unexpected).
TEST(HfImportGolden, PretrainingCheckpointUnderAClassifier) {
  const SafetensorsFile fixture = Unwrap(SafetensorsFile::Read("tests/golden/albert_golden.safetensors"));
  const std::string folder = WriteFixtureFolder(fixture, "albert_pretraining_to_seqcls");
  const HeadSpec head{HeadKind::kSequenceClassification, 4};
  absl::StatusOr<HfImport> imported = ImportHuggingFace(folder, head, /*seed=*/11);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->report.missing, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  EXPECT_EQ(imported->report.unexpected,
            (std::vector<std::string>{"predictions.LayerNorm.bias", "predictions.LayerNorm.weight", "predictions.bias",
                                      "predictions.dense.bias", "predictions.dense.weight",
                                      "sop_classifier.classifier.bias", "sop_classifier.classifier.weight"}));
  absl::StatusOr<Model> created = Model::Create(imported->config, head);
  ASSERT_TRUE(created.ok()) << created.status();
  Model& fresh = *created;
  fresh.InitializeParameters(11);
  for (const NamedTensor& t : fresh.layout().tensors) {
    if (t.name.rfind("classifier.", 0) != 0) continue;
    EXPECT_TRUE(std::equal(fresh.parameters().begin() + t.offset, fresh.parameters().begin() + t.offset + t.size,
                           imported->parameters.begin() + t.offset))
        << t.name << " is not the seed's initialisation";
  }
}

// A token classifier has no pooler (add_pooling_layer=False): loading it under a sequence
// head misses the pooler; the reverse leaves the pooler unexpected.
TEST(HfImportGolden, PoolerFollowsTheHead) {
  const SafetensorsFile tagger = Unwrap(SafetensorsFile::Read("tests/golden/bert_tokcls_golden.safetensors"));
  const std::string tagger_folder = WriteFixtureFolder(tagger, "bert_tokcls_to_seqcls");
  absl::StatusOr<HfImport> as_sequence =
      ImportHuggingFace(tagger_folder, HeadSpec{HeadKind::kSequenceClassification, 5}, 1);
  ASSERT_TRUE(as_sequence.ok()) << as_sequence.status();
  EXPECT_EQ(as_sequence->report.missing,
            (std::vector<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias"}));
  EXPECT_TRUE(as_sequence->report.unexpected.empty());

  const SafetensorsFile classifier = Unwrap(SafetensorsFile::Read("tests/golden/bert_seqcls_golden.safetensors"));
  const std::string classifier_folder = WriteFixtureFolder(classifier, "bert_seqcls_to_tokcls");
  absl::StatusOr<HfImport> as_tagger =
      ImportHuggingFace(classifier_folder, HeadSpec{HeadKind::kTokenClassification, 3}, 1);
  ASSERT_TRUE(as_tagger.ok()) << as_tagger.status();
  EXPECT_TRUE(as_tagger->report.missing.empty());
  EXPECT_EQ(as_tagger->report.unexpected,
            (std::vector<std::string>{"bert.pooler.dense.bias", "bert.pooler.dense.weight"}));
}

// BERT checkpoints converted from TensorFlow name LayerNorm gamma/beta, and BertModel saves
// bare names; both load into the same parameters as the modern names.
TEST(HfImportGolden, OldAndBareNamesLoadTheSameParameters) {
  const SafetensorsFile fixture = Unwrap(SafetensorsFile::Read("tests/golden/bert_qa_golden.safetensors"));
  const HeadSpec span{HeadKind::kSpanExtraction};
  const HfImport reference = Unwrap(ImportHuggingFace(WriteFixtureFolder(fixture, "bert_qa_modern"), span, 3));

  std::map<std::string, Tensor> renamed;
  for (auto& [name, tensor] : TensorsWithPrefix(fixture, "param.")) {
    std::string old = name;
    if (old.rfind("bert.", 0) == 0) old = old.substr(5);  // bare, as BertModel saves
    if (old.find("LayerNorm.weight") != std::string::npos) old.replace(old.find("weight"), 6, "gamma");
    if (old.find("LayerNorm.bias") != std::string::npos) old.replace(old.find("bias"), 4, "beta");
    renamed[old] = tensor;
  }
  ASSERT_TRUE(renamed.count("embeddings.LayerNorm.gamma"));
  renamed["embeddings.position_ids"] = {{1, 16}, std::vector<float>(16, 0.0f)};  // an old buffer
  const std::string folder = FreshFolder("bert_qa_old_names");
  WriteHfFolder(folder, fixture.metadata().at("config"), renamed);
  absl::StatusOr<HfImport> imported = ImportHuggingFace(folder, span, 3);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_TRUE(imported->report.missing.empty());
  EXPECT_EQ(imported->report.unexpected, (std::vector<std::string>{"embeddings.position_ids"}));
  EXPECT_EQ(imported->parameters, reference.parameters);
}

}  // namespace
}  // namespace cloze::interop
