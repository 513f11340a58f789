// The shipped training configs (configs/train-*.textproto, configs/*-repro.textproto) load
// and validate as `cloze train` and `cloze coordinator` read them, and the reproduction
// recipes hold the ALBERT paper's settings, with a global batch of 4,096 for every GPU
// count their comments list.
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "trainer/train_config.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ConfigsMatching(const std::regex& name) {
  std::vector<std::string> paths;
  for (const fs::directory_entry& entry : fs::directory_iterator("configs")) {
    if (std::regex_match(entry.path().filename().string(), name)) paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST(TrainConfigsTest, EveryShippedTrainingConfigValidates) {
  const std::vector<std::string> paths = ConfigsMatching(std::regex(R"(train-.*\.textproto|.*-repro\.textproto)"));
  ASSERT_GE(paths.size(), 4u);
  for (const std::string& path : paths) {
    absl::StatusOr<TrainConfig> config = LoadTrainConfig(path);
    ASSERT_TRUE(config.ok()) << path << ": " << config.status();
    EXPECT_TRUE(ValidateTrainConfig(*config).ok()) << path << ": " << ValidateTrainConfig(*config);
  }
}

class ReproductionRecipeTest : public testing::TestWithParam<std::string> {};

TEST_P(ReproductionRecipeTest, HasThePapersSettings) {
  absl::StatusOr<TrainConfig> loaded = LoadTrainConfig(GetParam());
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const TrainConfig& c = *loaded;
  EXPECT_EQ(c.model().model_type(), "albert");
  EXPECT_EQ(c.model().vocab_size(), 30000);
  EXPECT_EQ(c.model().embedding_size(), 128);
  EXPECT_EQ(c.model().hidden_dropout_prob(), 0.0f);
  EXPECT_EQ(c.seq_len(), 512);
  EXPECT_EQ(c.max_predictions_per_seq(), 20);
  EXPECT_EQ(c.total_steps(), 125000);
  EXPECT_EQ(c.optimizer().kind(), OptimizerConfig::LAMB);
  EXPECT_FLOAT_EQ(c.optimizer().learning_rate(), 0.00176f);
  EXPECT_EQ(c.schedule().warmup_steps(), 3125);
  EXPECT_EQ(c.schedule().decay(), ScheduleConfig::POLYNOMIAL);
  EXPECT_FLOAT_EQ(c.schedule().power(), 1.0f);
  EXPECT_EQ(c.schedule().end_learning_rate(), 0.0f);
  EXPECT_EQ(int64_t{c.distributed().workers()} * c.batch_size() * c.accumulation_steps(), 4096);
}

// The comment lines "  N GPUs: batch_size: B accumulation_steps: A" each make 4,096, and
// name the file's own batch_size.
TEST_P(ReproductionRecipeTest, EveryListedGpuCountKeepsTheBatchAt4096) {
  std::ifstream in(GetParam());
  std::stringstream text;
  text << in.rdbuf();
  absl::StatusOr<TrainConfig> config = LoadTrainConfig(GetParam());
  ASSERT_TRUE(config.ok()) << config.status();
  const std::regex line(R"(#\s+(\d+) GPUs:\s+batch_size: (\d+) accumulation_steps: (\d+))");
  std::vector<int> gpu_counts;
  const std::string content = text.str();
  for (std::sregex_iterator it(content.begin(), content.end(), line), end; it != end; ++it) {
    const int gpus = std::stoi((*it)[1]), batch = std::stoi((*it)[2]), accumulation = std::stoi((*it)[3]);
    EXPECT_EQ(gpus * batch * accumulation, 4096) << it->str();
    EXPECT_EQ(batch, config->batch_size()) << it->str();
    gpu_counts.push_back(gpus);
  }
  EXPECT_EQ(gpu_counts, (std::vector<int>{8, 16, 64}));
}

INSTANTIATE_TEST_SUITE_P(Configs, ReproductionRecipeTest,
                         testing::Values("configs/albert-base-repro.textproto", "configs/albert-large-repro.textproto"));

}  // namespace
}  // namespace cloze
