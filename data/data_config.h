// Validation of DataConfig (proto/data.proto), and the pipeline options it implies.
#ifndef CLOZE_DATA_DATA_CONFIG_H_
#define CLOZE_DATA_DATA_CONFIG_H_

#include "absl/status/status.h"
#include "data/example_pipeline.h"
#include "proto/data.pb.h"

namespace cloze::data {

// ALBERT's settings (create_pretraining_data.py's flags as used for the paper), with
// max_seq_length 512, dupe_factor 1 (dynamic masking or many epochs replace it) and
// 4 shards; the tokenizer is left empty.
DataConfig DefaultDataConfig();

// InvalidArgument naming the first bad field, e.g.
// "DataConfig.masked_lm_prob: must be in (0, 1), got 1.5".
absl::Status ValidateDataConfig(const DataConfig& config);

// The example-building part of a valid config.
PipelineOptions PipelineOptionsFrom(const DataConfig& config, int threads);

}  // namespace cloze::data

#endif  // CLOZE_DATA_DATA_CONFIG_H_
