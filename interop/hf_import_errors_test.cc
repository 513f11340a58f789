// Bad Hugging Face folders give errors naming the file and the field or tensor at fault,
// never a crash.
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "interop/hf_export.h"
#include "interop/hf_import.h"
#include "interop/hf_testing.h"
#include "model/model.h"
#include "model/model_config.h"

namespace cloze::interop {
namespace {

using namespace testing;  // NOLINT: the shared helpers

const HeadSpec kClassifier{HeadKind::kSequenceClassification, 3};

// A valid exported BERT classifier (3 labels) to break in one way.
std::string ExportedFolder(const std::string& name, const HeadSpec& head = kClassifier) {
  const ModelConfig config = Unwrap(LoadModelConfig("tests/golden/bert_golden.textproto"));
  absl::StatusOr<Model> model = Model::Create(config, head);
  EXPECT_TRUE(model.ok());
  model->InitializeParameters(1);
  const std::string folder = ::testing::TempDir() + "/" + name;
  std::filesystem::remove_all(folder);
  EXPECT_TRUE(ExportHuggingFace(config, head, {}, model->parameters(), "", folder).ok());
  return folder;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void ExpectError(const absl::StatusOr<HfImport>& result, absl::StatusCode code, const std::vector<std::string>& parts) {
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), code) << result.status();
  for (const std::string& part : parts) {
    EXPECT_TRUE(absl::StrContains(result.status().message(), part)) << "\"" << part << "\" not in " << result.status();
  }
}

TEST(HfImportErrors, MissingConfigJson) {
  const std::string folder = ExportedFolder("no_config");
  std::filesystem::remove(folder + "/config.json");
  ExpectError(ImportHuggingFace(folder, kClassifier, 1), absl::StatusCode::kNotFound, {folder + "/config.json"});
}

TEST(HfImportErrors, MissingWeights) {
  const std::string folder = ExportedFolder("no_weights");
  std::filesystem::rename(folder + "/model.safetensors", folder + "/pytorch_model.bin");
  ExpectError(ImportHuggingFace(folder, kClassifier, 1), absl::StatusCode::kNotFound,
              {folder + "/model.safetensors", "pytorch_model.bin"});
}

TEST(HfImportErrors, UnknownModelType) {
  const std::string folder = ExportedFolder("roberta");
  std::string config = ReadText(folder + "/config.json");
  config.replace(config.find("\"bert\""), 6, "\"roberta\"");
  WriteText(folder + "/config.json", config);
  ExpectError(ImportHuggingFace(folder, kClassifier, 1), absl::StatusCode::kInvalidArgument,
              {folder + "/config.json", "model_type", "roberta"});
}

TEST(HfImportErrors, RelativePositionsAreRefused) {
  const std::string folder = ExportedFolder("relative_positions");
  std::string config = ReadText(folder + "/config.json");
  config.replace(config.find("\"absolute\""), 10, "\"relative_key\"");
  WriteText(folder + "/config.json", config);
  ExpectError(ImportHuggingFace(folder, kClassifier, 1), absl::StatusCode::kInvalidArgument,
              {folder + "/config.json", "position_embedding_type"});
}

TEST(HfImportErrors, BadId2Label) {
  const std::string folder = ExportedFolder("bad_id2label");
  std::string config = ReadText(folder + "/config.json");
  config.replace(config.find("\"2\": \"LABEL_2\""), 14, "\"7\": \"LABEL_2\"");
  WriteText(folder + "/config.json", config);
  ExpectError(ImportHuggingFace(folder, kClassifier, 1), absl::StatusCode::kInvalidArgument,
              {folder + "/config.json", "id2label", "\"7\""});
}

// A 3-class classifier loaded as a 2-class one: the tensor and both shapes are named.
TEST(HfImportErrors, ShapeMismatchNamesTensorAndShapes) {
  const std::string folder = ExportedFolder("three_classes");
  ExpectError(ImportHuggingFace(folder, HeadSpec{HeadKind::kSequenceClassification, 2}, 1),
              absl::StatusCode::kInvalidArgument,
              {folder + "/model.safetensors", "\"classifier.weight\"", "[3, 24]", "[2, 24]"});
}

TEST(HfImportErrors, UnusableHead) {
  const std::string folder = ExportedFolder("unusable_head");
  ExpectError(ImportHuggingFace(folder, HeadSpec{HeadKind::kTokenClassification, 1}, 1),
              absl::StatusCode::kInvalidArgument, {"num_labels"});
}

TEST(HfImportErrors, CorruptWeights) {
  const std::string folder = ExportedFolder("corrupt");
  const std::string bytes = ReadText(folder + "/model.safetensors");
  WriteText(folder + "/model.safetensors", bytes.substr(0, bytes.size() / 2));
  const absl::StatusOr<HfImport> result = ImportHuggingFace(folder, kClassifier, 1);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(absl::StrContains(result.status().message(), folder + "/model.safetensors")) << result.status();
}

// An integer tensor where a weight belongs, and two spellings of one tensor.
TEST(HfImportErrors, WrongDtypeAndDuplicateNames) {
  const std::string folder = FreshFolder("dtype_and_duplicates");
  const std::string config = ReadText(ExportedFolder("dtype_source") + "/config.json");
  WriteText(folder + "/config.json", config);
  SafetensorsWriter ints;
  ints.SetMetadata("format", "pt");
  const std::vector<int32_t> zeros(3, 0);
  ints.AddInt32("classifier.bias", {3}, zeros);
  ASSERT_TRUE(ints.WriteFile(folder + "/model.safetensors").ok());
  ExpectError(ImportHuggingFace(folder, kClassifier, 1), absl::StatusCode::kInvalidArgument,
              {folder + "/model.safetensors", "classifier.bias", "I32"});

  SafetensorsWriter twice;
  twice.SetMetadata("format", "pt");
  const std::vector<float> ones(24, 1.0f);
  twice.AddFloat32("bert.embeddings.LayerNorm.weight", {24}, ones);
  twice.AddFloat32("embeddings.LayerNorm.gamma", {24}, ones);
  ASSERT_TRUE(twice.WriteFile(folder + "/model.safetensors").ok());
  ExpectError(ImportHuggingFace(folder, kClassifier, 1), absl::StatusCode::kInvalidArgument,
              {"bert.embeddings.LayerNorm.weight", "embeddings.LayerNorm.gamma"});
}

// cloze stores the MLM decoder once, tied to the word embeddings and the output bias: a
// file's tied copies are accepted when equal, refused when they differ (an untied model
// cannot be represented), and used when they are the only copy.
TEST(HfImportErrors, TiedDecoderCopies) {
  const HeadSpec pretraining{HeadKind::kPretraining};
  const std::string source = ExportedFolder("untied_source", pretraining);
  const SafetensorsFile weights = Unwrap(SafetensorsFile::Read(source + "/model.safetensors"));
  std::map<std::string, Tensor> tensors = TensorsWithPrefix(weights, "");
  Tensor decoder = tensors.at("bert.embeddings.word_embeddings.weight");
  const std::string folder = FreshFolder("untied");
  tensors["cls.predictions.decoder.weight"] = decoder;  // tied copies, as older HF saved them: accepted
  tensors["cls.predictions.decoder.bias"] = tensors.at("cls.predictions.bias");
  WriteHfFolder(folder, ReadText(source + "/config.json"), tensors);
  absl::StatusOr<HfImport> tied = ImportHuggingFace(folder, pretraining, 1);
  ASSERT_TRUE(tied.ok()) << tied.status();
  EXPECT_TRUE(tied->report.unexpected.empty());

  decoder.values[0] += 1.0f;
  tensors["cls.predictions.decoder.weight"] = decoder;
  WriteHfFolder(folder, ReadText(source + "/config.json"), tensors);
  ExpectError(ImportHuggingFace(folder, pretraining, 1), absl::StatusCode::kFailedPrecondition,
              {folder + "/model.safetensors", "cls.predictions.decoder.weight"});

  // Only the decoder's copy of the output bias: it is the output bias.
  tensors["cls.predictions.decoder.weight"] = tensors.at("bert.embeddings.word_embeddings.weight");
  Tensor bias = tensors.at("cls.predictions.bias");
  bias.values[1] = 0.25f;
  tensors.erase("cls.predictions.bias");
  tensors["cls.predictions.decoder.bias"] = bias;
  WriteHfFolder(folder, ReadText(source + "/config.json"), tensors);
  absl::StatusOr<HfImport> decoder_bias_only = ImportHuggingFace(folder, pretraining, 1);
  ASSERT_TRUE(decoder_bias_only.ok()) << decoder_bias_only.status();
  EXPECT_TRUE(decoder_bias_only->report.missing.empty());
  absl::StatusOr<Model> model = Model::Create(decoder_bias_only->config, pretraining);
  ASSERT_TRUE(model.ok());
  for (const NamedTensor& t : model->layout().tensors) {
    if (t.name == "cls.predictions.bias") {
      EXPECT_EQ(decoder_bias_only->parameters[t.offset + 1], 0.25f);
    }
  }
}

}  // namespace
}  // namespace cloze::interop
