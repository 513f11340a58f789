#include "data/data_config.h"

#include "absl/strings/str_cat.h"

namespace cloze::data {
namespace {

absl::Status FieldError(const char* field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("DataConfig.", field, ": ", message));
}

}  // namespace

DataConfig DefaultDataConfig() {
  DataConfig c;
  c.set_max_seq_length(512);
  c.set_short_seq_prob(0.1f);
  c.set_masked_lm_prob(0.15f);
  c.set_max_predictions_per_seq(20);
  c.set_max_ngram(3);
  c.set_whole_word_mask(true);
  c.set_sentence_task(DataConfig::SENTENCE_ORDER);
  c.set_dupe_factor(1);
  c.set_seed(12345);
  c.set_dynamic_masking(false);
  c.set_shards(4);
  return c;
}

absl::Status ValidateDataConfig(const DataConfig& c) {
  if (c.tokenizer().empty()) return FieldError("tokenizer", "must name a tokenizer (spm:, spm-train:, wordpiece:)");
  if (c.max_seq_length() < 8 || c.max_seq_length() > 65536) {
    return FieldError("max_seq_length", absl::StrCat("must be in [8, 65536], got ", c.max_seq_length()));
  }
  if (!(c.short_seq_prob() >= 0.0f && c.short_seq_prob() <= 1.0f)) {
    return FieldError("short_seq_prob", absl::StrCat("must be in [0, 1], got ", c.short_seq_prob()));
  }
  if (!(c.masked_lm_prob() > 0.0f && c.masked_lm_prob() < 1.0f)) {
    return FieldError("masked_lm_prob", absl::StrCat("must be in (0, 1), got ", c.masked_lm_prob()));
  }
  if (c.max_predictions_per_seq() < 1 || c.max_predictions_per_seq() > c.max_seq_length()) {
    return FieldError("max_predictions_per_seq",
                      absl::StrCat("must be in [1, max_seq_length], got ", c.max_predictions_per_seq()));
  }
  if (c.max_ngram() < 1 || c.max_ngram() > 10) {
    return FieldError("max_ngram", absl::StrCat("must be in [1, 10], got ", c.max_ngram()));
  }
  if (c.dupe_factor() < 1 || c.dupe_factor() > 1000) {
    return FieldError("dupe_factor", absl::StrCat("must be in [1, 1000], got ", c.dupe_factor()));
  }
  if (c.shards() < 1 || c.shards() > 99999) {
    return FieldError("shards", absl::StrCat("must be in [1, 99999], got ", c.shards()));
  }
  return absl::OkStatus();
}

PipelineOptions PipelineOptionsFrom(const DataConfig& c, int threads) {
  PipelineOptions options;
  options.instance = {.max_seq_length = c.max_seq_length(), .short_seq_prob = c.short_seq_prob(),
                      .sentence_task = c.sentence_task()};
  options.masking = {.masked_lm_prob = c.masked_lm_prob(), .max_predictions_per_seq = c.max_predictions_per_seq(),
                     .max_ngram = c.max_ngram(), .whole_word_mask = c.whole_word_mask()};
  options.dynamic_masking = c.dynamic_masking();
  options.dupe_factor = c.dupe_factor();
  options.seed = c.seed();
  options.threads = threads;
  return options;
}

}  // namespace cloze::data
