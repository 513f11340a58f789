#include "model/model_config.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "model/parameter_layout.h"

namespace cloze {
namespace {

ModelConfig ValidAlbert() {
  absl::StatusOr<ModelConfig> config = LoadModelConfig("configs/albert-tiny.textproto");
  EXPECT_TRUE(config.ok()) << config.status();
  return *config;
}

// Parameter counts of Hugging Face's AlbertForPreTraining / BertForPreTraining with the
// same sizes (transformers 5.24, tied decoder counted once): the layout holds exactly
// the same tensors.
TEST(ModelConfig, ShippedConfigsHaveHuggingFaceParameterCounts) {
  const std::pair<const char*, int64_t> expected[] = {
      {"albert-tiny", 4858290},     {"albert-base", 11813810}, {"albert-large", 17847474},
      {"albert-xlarge", 59021490},  {"albert-xxlarge", 223158450},
      {"bert-tiny", 4433468},       {"bert-base", 110106428},  {"bert-large", 336226108}};
  for (const auto& [name, count] : expected) {
    absl::StatusOr<ModelConfig> config = LoadModelConfig(std::string("configs/") + name + ".textproto");
    ASSERT_TRUE(config.ok()) << config.status();
    EXPECT_EQ(BuildParameterLayout(*config).total_size, count) << name;
  }
}

TEST(ModelConfig, ParsesHuggingFaceConfigJson) {
  // albert-base-v2's config.json as published on the Hugging Face hub.
  const std::string json = R"({
    "architectures": ["AlbertForMaskedLM"], "attention_probs_dropout_prob": 0, "bos_token_id": 2,
    "classifier_dropout_prob": 0.1, "down_scale_factor": 1, "embedding_size": 128,
    "eos_token_id": 3, "gap_size": 0, "hidden_act": "gelu_new", "hidden_dropout_prob": 0,
    "hidden_size": 768, "initializer_range": 0.02, "inner_group_num": 1,
    "intermediate_size": 3072, "layer_norm_eps": 1e-12, "max_position_embeddings": 512,
    "model_type": "albert", "net_structure_type": 0, "num_attention_heads": 12,
    "num_hidden_groups": 1, "num_hidden_layers": 12, "num_memory_blocks": 0,
    "pad_token_id": 0, "type_vocab_size": 2, "vocab_size": 30000})";
  absl::StatusOr<ModelConfig> config = ParseModelConfigJson(json, "config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  absl::StatusOr<ModelConfig> shipped = LoadModelConfig("configs/albert-base.textproto");
  ASSERT_TRUE(shipped.ok());
  EXPECT_EQ(config->SerializeAsString(), shipped->SerializeAsString());
}

TEST(ModelConfig, BertJsonFillsImplicitFields) {
  const std::string json = R"({"model_type": "bert", "vocab_size": 30522, "hidden_size": 768,
    "num_hidden_layers": 12, "num_attention_heads": 12, "intermediate_size": 3072,
    "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
    "max_position_embeddings": 512, "type_vocab_size": 2, "layer_norm_eps": 1e-12,
    "initializer_range": 0.02, "classifier_dropout": null})";
  absl::StatusOr<ModelConfig> config = ParseModelConfigJson(json, "bert/config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->embedding_size(), 768);
  EXPECT_EQ(config->num_hidden_groups(), 12);
  EXPECT_EQ(BuildParameterLayout(*config).total_size, 110106428);
}

// Each inconsistent config is refused with an error naming the field.
TEST(ModelConfig, InconsistentConfigsNameTheField) {
  struct Case {
    void (*mutate)(ModelConfig&);
    const char* field;
  };
  const Case cases[] = {
      {[](ModelConfig& c) { c.set_num_attention_heads(7); }, "ModelConfig.hidden_size"},
      {[](ModelConfig& c) { c.set_hidden_act("swish"); }, "ModelConfig.hidden_act"},
      {[](ModelConfig& c) { c.set_num_hidden_layers(0); }, "ModelConfig.num_hidden_layers"},
      {[](ModelConfig& c) { c.set_num_hidden_groups(3); }, "ModelConfig.num_hidden_groups"},
      {[](ModelConfig& c) { c.set_model_type("gpt2"); }, "ModelConfig.model_type"},
      {[](ModelConfig& c) { c.set_vocab_size(-5); }, "ModelConfig.vocab_size"},
      {[](ModelConfig& c) { c.set_hidden_dropout_prob(1.5f); }, "ModelConfig.hidden_dropout_prob"},
      {[](ModelConfig& c) { c.set_layer_norm_eps(0); }, "ModelConfig.layer_norm_eps"},
      {[](ModelConfig& c) { c.set_inner_group_num(2); }, "ModelConfig.inner_group_num"},
      {[](ModelConfig& c) { c.set_model_type("bert"); }, "ModelConfig.embedding_size"},
  };
  for (const Case& c : cases) {
    ModelConfig config = ValidAlbert();
    c.mutate(config);
    const absl::Status status = ValidateModelConfig(config);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.field;
    EXPECT_NE(status.message().find(c.field), std::string::npos) << status.message();
  }
}

TEST(ModelConfig, FileErrorsNameTheFile) {
  const std::string dir = ::testing::TempDir();
  const std::string bad_field = dir + "/bad_field.textproto";
  std::ofstream(bad_field) << "model_type: \"albert\"\nhidden_sizes: 12\n";
  absl::Status status = LoadModelConfig(bad_field).status();
  EXPECT_NE(status.message().find(bad_field), std::string::npos) << status;
  EXPECT_NE(status.message().find("line 2"), std::string::npos) << status;

  const std::string bad_value = dir + "/bad_value.textproto";
  std::ofstream(bad_value) << "model_type: \"albert\"\n";
  status = LoadModelConfig(bad_value).status();
  EXPECT_NE(status.message().find(bad_value), std::string::npos) << status;
  EXPECT_NE(status.message().find("ModelConfig.vocab_size"), std::string::npos) << status;

  const std::string bad_json = dir + "/config.json";
  std::ofstream(bad_json) << "{\"hidden_size\": \"wide\"}";
  status = LoadModelConfig(bad_json).status();
  EXPECT_NE(status.message().find(bad_json), std::string::npos) << status;

  status = LoadModelConfig(dir + "/missing.textproto").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cloze
