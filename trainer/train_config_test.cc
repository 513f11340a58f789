#include "trainer/train_config.h"

#include <fstream>

#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "model/model_config.h"

namespace cloze {
namespace {

TrainConfig WithModel(TrainConfig config) {
  absl::StatusOr<ModelConfig> model = ParseModelConfigText(
      "model_type: 'albert' vocab_size: 100 embedding_size: 16 hidden_size: 32 num_hidden_layers: 1 "
      "num_hidden_groups: 1 inner_group_num: 1 num_attention_heads: 2 intermediate_size: 64 hidden_act: 'gelu_new' "
      "max_position_embeddings: 64 type_vocab_size: 2 layer_norm_eps: 1e-12 initializer_range: 0.02 "
      "hidden_dropout_prob: 0",
      "model");
  EXPECT_TRUE(model.ok()) << model.status();
  *config.mutable_model() = *model;
  config.set_seq_len(64);
  return config;
}

// A fine-tuning config as `cloze finetune` makes it: zeros where the defaults are not.
TrainConfig FinetuneLikeConfig() {
  TrainConfig config = WithModel(DefaultTrainConfig());
  config.set_seed(0);
  config.mutable_optimizer()->set_kind(OptimizerConfig::ADAMW);
  config.mutable_optimizer()->set_weight_decay(0);
  config.mutable_optimizer()->set_epsilon(1e-8f);
  config.mutable_schedule()->set_warmup_steps(0);
  config.mutable_schedule()->set_decay(ScheduleConfig::LINEAR_FROM_WARMUP);
  config.mutable_schedule()->clear_power();
  config.mutable_guard()->set_spike_factor(0);
  config.mutable_checkpoint()->set_keep_every(0);
  FinetuneConfig& f = *config.mutable_finetune();
  f.set_task("RTE");
  f.set_data_dir("glue/RTE");
  f.set_init("scratch");
  f.set_tokenizer("spm-albert:spiece.model");
  f.set_max_seq_length(64);
  f.set_num_labels(2);
  config.mutable_distributed()->set_workers(2);
  return config;
}

std::string Text(const TrainConfig& config) {
  std::string text;
  google::protobuf::TextFormat::PrintToString(config, &text);
  return text;
}

absl::StatusOr<TrainConfig> LoadText(const std::string& text) {
  const std::string path = ::testing::TempDir() + "/config.textproto";
  std::ofstream(path) << text;
  return LoadTrainConfig(path);
}

// The launcher hands the coordinator its config as a file: explicit zeros must survive.
TEST(TrainConfigText, LoadTrainConfigReadsItBackExactly) {
  const TrainConfig config = FinetuneLikeConfig();
  ASSERT_TRUE(ValidateTrainConfig(config).ok()) << ValidateTrainConfig(config);
  absl::StatusOr<TrainConfig> loaded = LoadText(TrainConfigText(config));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(Text(*loaded), Text(config));

  // Plain text format would not do: the zeros come back as the defaults.
  absl::StatusOr<TrainConfig> plain = LoadText(Text(config));
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->optimizer().weight_decay(), DefaultTrainConfig().optimizer().weight_decay());
  EXPECT_EQ(plain->seed(), DefaultTrainConfig().seed());
}

TEST(TrainConfigText, TheDefaultsReadBackAsThemselves) {
  TrainConfig config = WithModel(DefaultTrainConfig());
  config.set_dataset("data");
  absl::StatusOr<TrainConfig> loaded = LoadText(TrainConfigText(config));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(Text(*loaded), Text(config));
}

// The probe block needs what its prober cannot start without; each gap names the field.
TEST(ProbeConfig, NamesTheFieldThatIsMissing) {
  TrainConfig config = WithModel(DefaultTrainConfig());
  config.set_dataset("data");
  ProbeConfig& probe = *config.mutable_probe();
  auto message = [&] { return std::string(ValidateTrainConfig(config).message()); };
  EXPECT_NE(message().find("TrainConfig.probe.tokenizer: missing"), std::string::npos) << message();
  probe.set_tokenizer("spm-albert:spiece.model");
  EXPECT_NE(message().find("TrainConfig.probe.ud_dir: missing"), std::string::npos) << message();
  probe.set_ud_dir("ud");
  EXPECT_NE(message().find("TrainConfig.probe.glue_dir: missing"), std::string::npos) << message();  // all: sst2 too
  probe.add_probes("fill");
  probe.add_probes("upos");
  EXPECT_TRUE(ValidateTrainConfig(config).ok()) << message();
  probe.clear_probes();
  probe.add_probes("sst2");
  probe.clear_ud_dir();
  EXPECT_NE(message().find("TrainConfig.probe.glue_dir: missing"), std::string::npos) << message();
  probe.set_glue_dir("glue");
  EXPECT_TRUE(ValidateTrainConfig(config).ok()) << message();  // sst2 alone needs no UD
  probe.clear_probes();
  probe.add_probes("fill_zh");
  EXPECT_NE(message().find("TrainConfig.probe.zh_text: missing"), std::string::npos) << message();
  probe.set_zh_text("zh.txt");
  EXPECT_TRUE(ValidateTrainConfig(config).ok()) << message();  // fill_zh alone needs neither UD nor GLUE
  probe.set_every_checkpoints(-1);
  EXPECT_NE(message().find("TrainConfig.probe: numbers must not be negative"), std::string::npos) << message();
}

// init_from starts a pretraining run from other parameters; fine-tuning has its own init.
TEST(TrainConfigInitFrom, IsForPretrainingOnly) {
  TrainConfig pretraining = WithModel(DefaultTrainConfig());
  pretraining.set_dataset("data");
  pretraining.set_init_from("runs/phase1");
  EXPECT_TRUE(ValidateTrainConfig(pretraining).ok()) << ValidateTrainConfig(pretraining);
  TrainConfig finetuning = FinetuneLikeConfig();
  finetuning.set_init_from("runs/phase1");
  const std::string message(ValidateTrainConfig(finetuning).message());
  EXPECT_NE(message.find("TrainConfig.init_from: is for pretraining"), std::string::npos) << message;
}

}  // namespace
}  // namespace cloze
