// Importing folders that transformers itself saved (testdata/generate_hf_fixtures.py):
// AlbertForPreTraining, BertForMaskedLM (no pooler, no NSP head) and a float16 AlbertModel
// (bare names). cloze's model on the imported parameters must give HF's recorded outputs
// within 1e-5: the MLM logits, and for the bare encoder the last hidden state.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "interop/hf_import.h"
#include "interop/hf_testing.h"
#include "model/model.h"
#include "checkpoint/safetensors.h"

namespace cloze::interop {
namespace {

using namespace testing;  // NOLINT: the shared helpers

constexpr double kTolerance = 1e-5;
const std::string kTestdata = "interop/testdata/";

// The expected file's batch; pretraining labels are the input ids at the masked positions.
Batch ExpectedBatch(const SafetensorsFile& expected) {
  Batch batch;
  const auto& dims = expected.entries().at("input.input_ids").shape;
  batch.batch_size = static_cast<int>(dims[0]);
  batch.seq_len = static_cast<int>(dims[1]);
  batch.input_ids = Unwrap(expected.Int32("input.input_ids"));
  batch.token_type_ids = Unwrap(expected.Int32("input.token_type_ids"));
  batch.attention_mask = Unwrap(expected.Int32("input.attention_mask"));
  batch.masked_positions = Unwrap(expected.Int32("input.masked_positions"));
  for (int32_t p : batch.masked_positions) batch.masked_labels.push_back(batch.input_ids[p]);
  batch.sentence_labels.assign(batch.batch_size, 0);
  batch.labels.assign(batch.batch_size, 0);
  return batch;
}

absl::StatusOr<Model> ImportedModel(const HfImport& imported, const HeadSpec& head) {
  absl::StatusOr<Model> model = Model::Create(imported.config, head);
  if (model.ok()) std::copy(imported.parameters.begin(), imported.parameters.end(), model->parameters().begin());
  return model;
}

TEST(HfSaved, AlbertForPreTrainingGivesHfMlmLogits) {
  const HeadSpec head{HeadKind::kPretraining};
  absl::StatusOr<HfImport> imported = ImportHuggingFace(kTestdata + "albert_for_pretraining", head, 1);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->architecture, "AlbertForPreTraining");
  EXPECT_TRUE(imported->report.missing.empty());
  EXPECT_TRUE(imported->report.unexpected.empty());
  EXPECT_EQ(imported->config.num_hidden_groups(), 2);

  const SafetensorsFile expected =
      Unwrap(SafetensorsFile::Read(kTestdata + "albert_for_pretraining.expected.safetensors"));
  absl::StatusOr<Model> model = ImportedModel(*imported, head);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(model->Forward(ExpectedBatch(expected), StepOptions{}).ok());
  EXPECT_LT(MaxAbsDifference(model->logits(0), Unwrap(expected.Float32("output.mlm_logits"))), kTolerance);
}

// BertForMaskedLM has neither pooler nor NSP classifier: the pretraining head gets them from
// the seed, and the MLM logits do not depend on them.
TEST(HfSaved, BertForMaskedLmGivesHfMlmLogits) {
  const HeadSpec head{HeadKind::kPretraining};
  absl::StatusOr<HfImport> imported = ImportHuggingFace(kTestdata + "bert_for_masked_lm", head, 1);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->report.missing,
            (std::vector<std::string>{"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                      "cls.seq_relationship.weight", "cls.seq_relationship.bias"}));
  EXPECT_TRUE(imported->report.unexpected.empty());

  const SafetensorsFile expected = Unwrap(SafetensorsFile::Read(kTestdata + "bert_for_masked_lm.expected.safetensors"));
  absl::StatusOr<Model> model = ImportedModel(*imported, head);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(model->Forward(ExpectedBatch(expected), StepOptions{}).ok());
  EXPECT_LT(MaxAbsDifference(model->logits(0), Unwrap(expected.Float32("output.mlm_logits"))), kTolerance);
}

// AlbertModel saves bare names ("embeddings.word_embeddings.weight"), here in float16.
TEST(HfSaved, HalfPrecisionAlbertModelGivesHfHiddenState) {
  const HeadSpec head{HeadKind::kSequenceClassification, 2};
  absl::StatusOr<HfImport> imported = ImportHuggingFace(kTestdata + "albert_model_fp16", head, 1);
  ASSERT_TRUE(imported.ok()) << imported.status();
  EXPECT_EQ(imported->architecture, "AlbertModel");
  EXPECT_EQ(imported->report.missing, (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
  EXPECT_TRUE(imported->report.unexpected.empty());

  const SafetensorsFile expected = Unwrap(SafetensorsFile::Read(kTestdata + "albert_model_fp16.expected.safetensors"));
  absl::StatusOr<Model> model = ImportedModel(*imported, head);
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_TRUE(model->Forward(ExpectedBatch(expected), StepOptions{}).ok());
  const std::vector<float> hidden = Unwrap(expected.Float32("output.last_hidden_state"));
  EXPECT_LT(MaxAbsDifference(model->hidden_state(imported->config.num_hidden_layers()), hidden), kTolerance);
}

}  // namespace
}  // namespace cloze::interop
