#include "data/data_config.h"

#include "gtest/gtest.h"

namespace cloze::data {
namespace {

TEST(DataConfig, DefaultsWithATokenizerAreValid) {
  DataConfig c = DefaultDataConfig();
  EXPECT_FALSE(ValidateDataConfig(c).ok());  // no tokenizer yet
  c.set_tokenizer("spm:model");
  EXPECT_TRUE(ValidateDataConfig(c).ok());
  const PipelineOptions options = PipelineOptionsFrom(c, 3);
  EXPECT_EQ(options.instance.max_seq_length, 512);
  EXPECT_EQ(options.masking.max_predictions_per_seq, 20);
  EXPECT_EQ(options.threads, 3);
}

TEST(DataConfig, BadFieldsAreNamed) {
  struct Case {
    void (*mutate)(DataConfig&);
    const char* field;
  };
  const Case cases[] = {
      {[](DataConfig& c) { c.set_max_seq_length(4); }, "DataConfig.max_seq_length"},
      {[](DataConfig& c) { c.set_masked_lm_prob(1.5f); }, "DataConfig.masked_lm_prob"},
      {[](DataConfig& c) { c.set_short_seq_prob(-1); }, "DataConfig.short_seq_prob"},
      {[](DataConfig& c) { c.set_max_predictions_per_seq(0); }, "DataConfig.max_predictions_per_seq"},
      {[](DataConfig& c) { c.set_max_ngram(0); }, "DataConfig.max_ngram"},
      {[](DataConfig& c) { c.set_dupe_factor(0); }, "DataConfig.dupe_factor"},
      {[](DataConfig& c) { c.set_shards(0); }, "DataConfig.shards"},
  };
  for (const Case& test : cases) {
    DataConfig c = DefaultDataConfig();
    c.set_tokenizer("spm:model");
    test.mutate(c);
    const absl::Status status = ValidateDataConfig(c);
    EXPECT_NE(status.message().find(test.field), std::string::npos) << status;
  }
}

}  // namespace
}  // namespace cloze::data
