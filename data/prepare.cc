#include "data/prepare.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "data/data_config.h"
#include "data/dataset_writer.h"
#include "data/prepare_steps.h"
#include "data/tokenizer.h"
#include "util/file_error.h"

namespace cloze::data {

namespace fs = std::filesystem;

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadDatasetTokenizer(const std::string& dataset_dir,
                                                                const ShardMetadata& metadata) {
  const auto [kind, file] = SplitTokenizerSpec(metadata.data_config().tokenizer());
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(absl::StrCat(kind, ":", dataset_dir, "/", file));
  if (!tokenizer.ok()) return tokenizer.status();
  if ((*tokenizer)->Fingerprint() != metadata.tokenizer_fingerprint()) {
    return absl::FailedPreconditionError(absl::StrCat(dataset_dir, "/", file, " has fingerprint ",
                                                      (*tokenizer)->Fingerprint(), ", the shards say ",
                                                      metadata.tokenizer_fingerprint()));
  }
  return tokenizer;
}

absl::StatusOr<PrepareResult> PrepareDataset(const PrepareOptions& options) {
  if (absl::Status s = ValidateDataConfig(options.config); !s.ok()) return s;
  if (absl::Status s = CheckOutputFolder(options.output); !s.ok()) return s;
  // Input first: a typo in a path should not leave an output folder behind.
  absl::StatusOr<std::unique_ptr<DocumentSource>> source = DocumentSource::Open(options.inputs, options.source);
  if (!source.ok()) return source.status();
  absl::StatusOr<InputUnits> units = PlanInputUnits((*source)->files(), options.source, options.unit_bytes);
  if (!units.ok()) return units.status();
  std::error_code error;
  const bool created = !fs::exists(options.output);
  fs::create_directories(options.output, error);
  if (error) return util::FileError(options.output, "cannot create", error.value());

  absl::StatusOr<InstalledTokenizer> tokenizer = InstallTokenizer(options, options.output);
  if (!tokenizer.ok()) return tokenizer.status();
  absl::StatusOr<std::unique_ptr<DatasetWriter>> writer = DatasetWriter::Create(options.output, tokenizer->spec);
  if (!writer.ok()) return writer.status();
  absl::StatusOr<PipelineStats> stats = BuildExamples(**source, units->file_units, *tokenizer->tokenizer,
                                                      tokenizer->config, options.threads, **writer);
  if (!stats.ok()) return stats.status();
  if (stats->examples == 0) {
    // A dataset of no examples is refused here, not by `train` later; its folder goes too
    // (it was new or empty), so the same command can run again on better input.
    writer->reset();
    if (created) fs::remove_all(options.output, error);
    return absl::InvalidArgumentError(absl::StrCat(
        "no examples from ", absl::StrJoin(options.inputs, ","), ": ", (*source)->stats().documents,
        " documents, ", (*source)->stats().sentences, " sentences, ", (*source)->stats().skipped_lines(),
        " lines skipped; nothing written to ", options.output));
  }
  absl::StatusOr<std::vector<ShardMetadata>> shards =
      (*writer)->Finish(CorpusCountsOf((*source)->stats(), *stats));
  if (!shards.ok()) return shards.status();
  PrepareResult result;
  result.config = tokenizer->config;
  result.input = (*source)->stats();
  result.formats = (*source)->file_formats();
  result.examples = *std::move(stats);
  result.shards = *std::move(shards);
  return result;
}

}  // namespace cloze::data
