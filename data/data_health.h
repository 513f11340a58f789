// Whether a prepared corpus is fit for pretraining, in a few numbers, with warnings that
// name the cause: `cloze prepare` prints it from what it built, `cloze inspect` from the
// shards (their CorpusCounts and a scan of the examples).
//
// fill: mean tokens per example / max_seq_length; below 70% most of each batch is
// padding. Sentence-task balance: the share of label 1 (SOP swapped, NSP random next)
// should be near 50%; outside 40–60% the task is partly constant.
#ifndef CLOZE_DATA_DATA_HEALTH_H_
#define CLOZE_DATA_DATA_HEALTH_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/data.pb.h"

namespace cloze::data {

inline constexpr double kMinFill = 0.7;
inline constexpr double kMinLabelShare = 0.4, kMaxLabelShare = 0.6;

struct CorpusHealth {
  CorpusCounts corpus;  // documents 0: not recorded (datasets from before it was)
  int64_t examples = 0;  // scanned: all of them, or the sample of `cloze inspect --limit`
  int64_t tokens = 0;    // in the scanned examples, [CLS] and [SEP]s included
  // The whole dataset's examples, which `corpus` counts describe; 0: the scanned ones are all.
  int64_t dataset_examples = 0;
  int64_t sentence_label_1 = 0;
  int max_seq_length = 0;
  DataConfig::SentenceTask sentence_task = DataConfig::SENTENCE_ORDER;

  double fill() const;
  double label_1_share() const;
  // Per-document and per-chunk shares scale the scanned sample up to the whole dataset.
  double tokens_per_document() const;
  double one_sentence_share() const;
};

// "documents: 60 (138.9 sentences each, 4,645 tokens each)", "fill: 94.5% …",
// "sentence order: 47.9% swapped".
std::vector<std::string> HealthLines(const CorpusHealth& health);

// One line per problem, each naming its likely cause and what to try; empty when healthy.
std::vector<std::string> HealthWarnings(const CorpusHealth& health);

}  // namespace cloze::data

#endif  // CLOZE_DATA_DATA_HEALTH_H_
