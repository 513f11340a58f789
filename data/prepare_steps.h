// The steps `cloze prepare` is made of, shared by the one-machine preparation (prepare.h)
// and the split one (prepare_part.h), so that both make the same examples.
#ifndef CLOZE_DATA_PREPARE_STEPS_H_
#define CLOZE_DATA_PREPARE_STEPS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "data/document_source.h"
#include "data/example_pipeline.h"
#include "data/prepare.h"
#include "data/shard_writer.h"
#include "data/tokenizer.h"
#include "proto/data.pb.h"

namespace cloze::data {

// "kind:path" → ("kind", "path"); ("kind", "") without a colon.
std::pair<std::string, std::string> SplitTokenizerSpec(const std::string& spec);

// Prepare never mixes with or replaces existing data: `output` must not exist or be an
// empty folder (AlreadyExists naming it otherwise).
absl::Status CheckOutputFolder(const std::string& output);

// The tokenizer a dataset is encoded with, from its own copy of the file.
struct InstalledTokenizer {
  std::unique_ptr<Tokenizer> tokenizer;
  DataConfig config;  // options.config with the tokenizer spec relative to `folder`
  ShardSpec spec;     // for config.shards() shards; shard_index left 0
};

// Trains (spm-train:N, on the first options.spm_train_sentences sentences of
// options.inputs) or copies the tokenizer into `folder` (tokenizer.model or vocab.txt), so a
// dataset carries what it was made with, and loads that copy. Errors name the field or file.
absl::StatusOr<InstalledTokenizer> InstallTokenizer(const PrepareOptions& options, const std::string& folder);

// Runs the example pipeline over `source` into `sink` with options.config's settings;
// `file_units` as in PipelineOptions.
absl::StatusOr<PipelineStats> BuildExamples(DocumentSource& source, std::vector<int64_t> file_units,
                                            const Tokenizer& tokenizer, const DataConfig& config, int threads,
                                            ExampleSink& sink);

// What a dataset records about the corpus it was made from.
CorpusCounts CorpusCountsOf(const InputStats& input, const PipelineStats& examples);

}  // namespace cloze::data

#endif  // CLOZE_DATA_PREPARE_STEPS_H_
