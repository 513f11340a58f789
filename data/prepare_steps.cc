#include "data/prepare_steps.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "data/data_config.h"
#include "data/tokenizer_vocab_info.h"
#include "data/train_sentencepiece.h"

namespace cloze::data {
namespace {

namespace fs = std::filesystem;

// Puts the tokenizer's file into `folder` and returns the spec to record (relative).
absl::StatusOr<std::string> MaterializeTokenizer(const PrepareOptions& options, const std::string& folder) {
  const auto [kind, argument] = SplitTokenizerSpec(options.config.tokenizer());
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
    if (absl::Status s = TrainSentencePiece(sentences, vocab_size, folder + "/tokenizer"); !s.ok()) return s;
    return std::string("spm:tokenizer.model");
  }
  if (kind != "spm" && kind != "spm-albert" && kind != "wordpiece") {
    return absl::InvalidArgumentError(absl::StrCat("DataConfig.tokenizer: unknown kind in \"",
                                                   options.config.tokenizer(),
                                                   "\" (spm:, spm-albert:, spm-train:, wordpiece:)"));
  }
  const std::string file_name = kind == "wordpiece" ? "vocab.txt" : "tokenizer.model";
  std::error_code error;
  fs::copy_file(argument, folder + "/" + file_name, fs::copy_options::overwrite_existing, error);
  if (error) return absl::NotFoundError(absl::StrCat(argument, ": cannot copy the tokenizer: ", error.message()));
  return absl::StrCat(kind, ":", file_name);
}

}  // namespace

std::pair<std::string, std::string> SplitTokenizerSpec(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return {spec, ""};
  return {spec.substr(0, colon), spec.substr(colon + 1)};
}

absl::Status CheckOutputFolder(const std::string& output) {
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

absl::StatusOr<InstalledTokenizer> InstallTokenizer(const PrepareOptions& options, const std::string& folder) {
  absl::StatusOr<std::string> recorded = MaterializeTokenizer(options, folder);
  if (!recorded.ok()) return recorded.status();
  InstalledTokenizer installed;
  installed.config = options.config;
  installed.config.set_tokenizer(*recorded);
  const auto [kind, file] = SplitTokenizerSpec(*recorded);
  // Encode with the dataset's own copy: what is recorded is exactly what encodes.
  absl::StatusOr<std::unique_ptr<Tokenizer>> tokenizer = LoadTokenizer(absl::StrCat(kind, ":", folder, "/", file));
  if (!tokenizer.ok()) return tokenizer.status();
  installed.tokenizer = *std::move(tokenizer);
  installed.spec.shard_count = installed.config.shards();
  installed.spec.tokenizer_fingerprint = installed.tokenizer->Fingerprint();
  installed.spec.data_config = installed.config;
  installed.spec.vocab_size = installed.tokenizer->vocab_size();
  return installed;
}

absl::StatusOr<PipelineStats> BuildExamples(DocumentSource& source, std::vector<int64_t> file_units,
                                            const Tokenizer& tokenizer, const DataConfig& config, int threads,
                                            ExampleSink& sink) {
  PipelineOptions options = PipelineOptionsFrom(config, threads);
  options.file_units = std::move(file_units);
  return RunExamplePipeline(source, [&tokenizer](std::string_view s) { return tokenizer.Encode(s); },
                            VocabInfoOf(tokenizer), options, sink);
}

CorpusCounts CorpusCountsOf(const InputStats& input, const PipelineStats& examples) {
  CorpusCounts corpus;
  corpus.set_documents(input.documents);
  corpus.set_sentences(input.sentences);
  corpus.set_one_sentence_chunks(examples.one_sentence_chunks);
  return corpus;
}

}  // namespace cloze::data
