#include "data/prepare.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "data/data_config.h"
#include "data/dataset_writer.h"
#include "data/tokenizer.h"
#include "data/tokenizer_vocab_info.h"
#include "data/train_sentencepiece.h"
#include "util/file_error.h"

namespace cloze::data {
namespace {

namespace fs = std::filesystem;

// Prepare never mixes with or replaces existing data.
absl::Status CheckOutput(const std::string& output) {
  std::error_code error;
  if (!fs::exists(output, error)) return absl::OkStatus();
  if (!fs::is_directory(output, error)) {
    return absl::AlreadyExistsError(absl::StrCat(output, ": exists and is not a folder"));
  }
  if (!fs::is_empty(output, error)) {
    return absl::AlreadyExistsError(absl::StrCat(output, ": not empty; prepare writes only into a new or empty folder"));
  }
  return absl::OkStatus();
}

// "kind:path" → ("kind", "path").
std::pair<std::string, std::string> SplitSpec(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return {spec, ""};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

// Puts the tokenizer's file into the dataset and returns the spec to record (relative).
absl::StatusOr<std::string> MaterializeTokenizer(const PrepareOptions& options) {
  const auto [kind, argument] = SplitSpec(options.config.tokenizer());
  if (kind == "spm-train") {
    int vocab_size = 0;
    if (!absl::SimpleAtoi(argument, &vocab_size) || vocab_size < 8) {
      return absl::InvalidArgumentError(absl::StrCat("DataConfig.tokenizer: \"", options.config.tokenizer(),
                                                     "\": the vocabulary size must be a number >= 8"));
    }
    absl::StatusOr<std::unique_ptr<DocumentSource>> source = DocumentSource::Open(options.inputs, options.source);
    if (!source.ok()) return source.status();
    std::vector<std::string> sentences;
    Document document;
    while (static_cast<int64_t>(sentences.size()) < options.spm_train_sentences) {
      absl::StatusOr<bool> got = (*source)->Next(&document);
      if (!got.ok()) return got.status();
      if (!*got) break;
      for (std::string& s : document.sentences) sentences.push_back(std::move(s));
    }
    if (absl::Status s = TrainSentencePiece(sentences, vocab_size, options.output + "/tokenizer"); !s.ok()) return s;
    return std::string("spm:tokenizer.model");
  }
  if (kind != "spm" && kind != "spm-albert" && kind != "wordpiece") {
    return absl::InvalidArgumentError(absl::StrCat("DataConfig.tokenizer: unknown kind in \"",
                                                   options.config.tokenizer(),
                                                   "\" (spm:, spm-albert:, spm-train:, wordpiece:)"));
  }
  const std::string file_name = kind == "wordpiece" ? "vocab.txt" : "tokenizer.model";
  std::error_code error;
  fs::copy_file(argument, options.output + "/" + file_name, error);
  if (error) return absl::NotFoundError(absl::StrCat(argument, ": cannot copy the tokenizer: ", error.message()));
  return absl::StrCat(kind, ":", file_name);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadDatasetTokenizer(const std::string& dataset_dir,
                                                                const ShardMetadata& metadata) {
  const auto [kind, file] = SplitSpec(metadata.data_config().tokenizer());
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
  if (absl::Status s = CheckOutput(options.output); !s.ok()) return s;
  // Input first: a typo in a path should not leave an output folder behind.
  absl::StatusOr<std::unique_ptr<DocumentSource>> source = DocumentSource::Open(options.inputs, options.source);
  if (!source.ok()) return source.status();
  std::error_code error;
  const bool created = !fs::exists(options.output);
  fs::create_directories(options.output, error);
  if (error) return util::FileError(options.output, "cannot create", error.value());

  PrepareResult result;
  result.config = options.config;
  absl::StatusOr<std::string> recorded = MaterializeTokenizer(options);
  if (!recorded.ok()) return recorded.status();
  result.config.set_tokenizer(*recorded);
  const auto [kind, file] = SplitSpec(*recorded);
  // Encode with the dataset's own copy: what is recorded is exactly what encodes.
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(absl::StrCat(kind, ":", options.output, "/", file));
  if (!tokenizer.ok()) return tokenizer.status();

  ShardSpec spec;
  spec.shard_count = result.config.shards();
  spec.tokenizer_fingerprint = (*tokenizer)->Fingerprint();
  spec.data_config = result.config;
  spec.vocab_size = (*tokenizer)->vocab_size();
  absl::StatusOr<std::unique_ptr<DatasetWriter>> writer = DatasetWriter::Create(options.output, spec);
  if (!writer.ok()) return writer.status();

  const Tokenizer& t = **tokenizer;
  absl::StatusOr<PipelineStats> stats =
      RunExamplePipeline(**source, [&t](std::string_view s) { return t.Encode(s); }, VocabInfoOf(t),
                         PipelineOptionsFrom(result.config, options.threads), **writer);
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
  CorpusCounts corpus;
  corpus.set_documents((*source)->stats().documents);
  corpus.set_sentences((*source)->stats().sentences);
  corpus.set_one_sentence_chunks(stats->one_sentence_chunks);
  absl::StatusOr<std::vector<ShardMetadata>> shards = (*writer)->Finish(corpus);
  if (!shards.ok()) return shards.status();
  result.input = (*source)->stats();
  result.formats = (*source)->file_formats();
  result.examples = *std::move(stats);
  result.shards = *std::move(shards);
  return result;
}

}  // namespace cloze::data
