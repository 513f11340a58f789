// `cloze prepare` as a library call: raw text in, a finished sharded dataset out.
#ifndef CLOZE_DATA_PREPARE_H_
#define CLOZE_DATA_PREPARE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/document_source.h"
#include "data/example_pipeline.h"
#include "data/input_units.h"
#include "data/tokenizer.h"
#include "proto/data.pb.h"

namespace cloze::data {

struct PrepareOptions {
  std::vector<std::string> inputs;  // files or folders (document_source.h)
  SourceOptions source;             // input format ("auto": detected per file), chapters
  std::string output;               // dataset folder: must not exist, or be empty
  DataConfig config;                // validated here; config.tokenizer as the user gave it
  int threads = 1;
  // "spm-train:N" trains on at most this many sentences from the start of the input.
  int64_t spm_train_sentences = 2000000;
  // Input files are built in units of at least this many bytes (input_units.h). It shapes
  // the examples of inputs larger than one unit, so every part of a split preparation and
  // the one-machine preparation it must equal use the same value.
  int64_t unit_bytes = kDefaultUnitBytes;
};

struct PrepareResult {
  InputStats input;
  std::vector<FileFormat> formats;  // how each input file was read
  PipelineStats examples;
  std::vector<ShardMetadata> shards;
  DataConfig config;  // as recorded in the shards (tokenizer spec relative to the dataset)
};

// Trains or copies the tokenizer into the output folder (tokenizer.model or vocab.txt),
// so a dataset carries what it was made with, then runs the example pipeline over the
// input's units into config.shards() shards. Bad input lines are skipped and counted (result.input); only
// unusable arguments, unreadable files and storage failures are errors, which name the
// file, field or shard. On error no shard is published (shard_writer.h).
absl::StatusOr<PrepareResult> PrepareDataset(const PrepareOptions& options);

// Loads the tokenizer a dataset records (its DataConfig.tokenizer, relative to
// `dataset_dir`) and checks it against the shards' fingerprint (FailedPrecondition naming
// both when they differ).
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadDatasetTokenizer(const std::string& dataset_dir,
                                                                const ShardMetadata& metadata);

}  // namespace cloze::data

#endif  // CLOZE_DATA_PREPARE_H_
