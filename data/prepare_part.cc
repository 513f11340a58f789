#include "data/prepare_part.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "data/data_config.h"
#include "data/dataset_writer.h"
#include "data/input_units.h"
#include "data/prepare_steps.h"
#include "data/shard_format.h"
#include "google/protobuf/text_format.h"
#include "util/atomic_file.h"
#include "util/file_error.h"

namespace cloze::data {
namespace {

namespace fs = std::filesystem;

absl::Status CheckPartArguments(const PrepareOptions& options, int part, int parts) {
  if (parts < 1 || parts > kMaxShardCount) {
    return absl::InvalidArgumentError(absl::StrCat("--parts: ", parts, " is outside [1, ", kMaxShardCount, "]"));
  }
  if (part < 0 || part >= parts) {
    return absl::InvalidArgumentError(absl::StrCat("--part: ", part, " is outside [0, ", parts - 1, "]"));
  }
  if (SplitTokenizerSpec(options.config.tokenizer()).first == "spm-train") {
    return absl::InvalidArgumentError(absl::StrCat(
        "DataConfig.tokenizer: \"", options.config.tokenizer(),
        "\": a part cannot train the tokenizer (it trains on the start of the whole input, which no part "
        "sees); train it once with a one-machine `cloze prepare --tokenizer=spm-train:N` and give the parts "
        "spm:DATASET/tokenizer.model"));
  }
  return ValidateDataConfig(options.config);
}

// Parts share the output folder with each other only.
absl::Status CheckPartOutput(const std::string& output) {
  std::error_code error;
  if (!fs::exists(output, error)) return absl::OkStatus();
  if (!fs::is_directory(output, error)) {
    return absl::AlreadyExistsError(absl::StrCat(output, ": exists and is not a folder"));
  }
  for (const fs::directory_entry& entry : fs::directory_iterator(output, error)) {
    if (entry.path().filename() != kPartsFolder) {
      return absl::AlreadyExistsError(absl::StrCat(output, ": holds ", entry.path().filename().string(),
                                                   "; parts write only into a new folder or one holding other "
                                                   "parts (", kPartsFolder, "/)"));
    }
  }
  if (error) return util::FileError(output, "list", error.value());
  return absl::OkStatus();
}

std::string PrivateSuffix() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  return absl::StrCat(host, "-", getpid());
}

// Removes the folder it guards unless released: a failed part leaves no partial folder.
class FolderGuard {
 public:
  explicit FolderGuard(std::string path) : path_(std::move(path)) {}
  ~FolderGuard() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  void Release() { path_.clear(); }

 private:
  std::string path_;
};

// Builds the part's examples from its files into `folder`; fills result's statistics.
absl::Status BuildPart(const PrepareOptions& options, const InputUnits& units, const PartSlice& slice,
                       const InstalledTokenizer& tokenizer, const std::string& folder, PartResult& result) {
  ShardSpec spec = tokenizer.spec;
  spec.shard_count = 1;  // the part's examples in their order; the merge deals them out
  absl::StatusOr<std::unique_ptr<DatasetWriter>> writer = DatasetWriter::Create(folder, spec);
  if (!writer.ok()) return writer.status();
  if (slice.first_file < slice.end_file) {
    const std::vector<std::string> files(units.files.begin() + slice.first_file,
                                         units.files.begin() + slice.end_file);
    absl::StatusOr<std::unique_ptr<DocumentSource>> source = DocumentSource::Open(files, options.source);
    if (!source.ok()) return source.status();
    absl::StatusOr<PipelineStats> stats = BuildExamples(
        **source,
        std::vector<int64_t>(units.file_units.begin() + slice.first_file, units.file_units.begin() + slice.end_file),
        *tokenizer.tokenizer, tokenizer.config, options.threads, **writer);
    if (!stats.ok()) return stats.status();
    result.input = (*source)->stats();
    result.formats = (*source)->file_formats();
    result.examples = *std::move(stats);
  }
  absl::StatusOr<std::vector<ShardMetadata>> shards =
      (*writer)->Finish(CorpusCountsOf(result.input, result.examples));
  if (!shards.ok()) return shards.status();
  PreparedPart& m = result.manifest;
  m.set_input_fingerprint(units.fingerprint);
  m.set_unit_count(units.unit_count);
  m.set_first_unit(slice.first_unit);
  m.set_end_unit(slice.end_unit);
  *m.mutable_data_config() = tokenizer.config;
  m.set_tokenizer_fingerprint(tokenizer.spec.tokenizer_fingerprint);
  m.set_vocab_size(tokenizer.spec.vocab_size);
  m.set_example_count(shards->front().example_count());
  m.set_content_sha256(shards->front().content_sha256());
  *m.mutable_corpus() = CorpusCountsOf(result.input, result.examples);
  m.set_tokens(result.examples.tokens);
  m.set_sentence_label_1(result.examples.sentence_label_1);
  m.set_input_files(result.input.files);
  m.set_input_bytes(result.input.bytes);
  std::string text;
  google::protobuf::TextFormat::PrintToString(m, &text);
  return util::WriteTextFileAtomically(folder + "/" + kPartManifest, text);
}

}  // namespace

std::string PartFolderName(int part, int parts) { return absl::StrFormat("part-%05d-of-%05d", part, parts); }

absl::StatusOr<PartResult> PreparePart(const PrepareOptions& options, int part, int parts) {
  if (absl::Status s = CheckPartArguments(options, part, parts); !s.ok()) return s;
  if (absl::Status s = CheckPartOutput(options.output); !s.ok()) return s;
  // Every part lists and sizes the whole input: the units, and so its share, depend on it.
  absl::StatusOr<std::unique_ptr<DocumentSource>> all = DocumentSource::Open(options.inputs, options.source);
  if (!all.ok()) return all.status();
  absl::StatusOr<InputUnits> units = PlanInputUnits((*all)->files(), options.source, options.unit_bytes);
  if (!units.ok()) return units.status();
  const PartSlice slice = SliceForPart(*units, part, parts);

  const std::string parts_dir = absl::StrCat(options.output, "/", kPartsFolder);
  const std::string name = PartFolderName(part, parts);
  const std::string partial = absl::StrCat(parts_dir, "/.", name, ".partial-", PrivateSuffix());
  std::error_code error;
  fs::remove_all(partial, error);
  fs::create_directories(partial, error);
  if (error) return util::FileError(partial, "cannot create", error.value());
  FolderGuard guard(partial);

  absl::StatusOr<InstalledTokenizer> tokenizer = InstallTokenizer(options, partial);
  if (!tokenizer.ok()) return tokenizer.status();
  PartResult result;
  result.manifest.set_part_index(part);
  result.manifest.set_part_count(parts);
  if (absl::Status s = BuildPart(options, *units, slice, *tokenizer, partial, result); !s.ok()) return s;

  // A part run before (a requeue) is replaced by this identical one.
  result.folder = absl::StrCat(parts_dir, "/", name);
  fs::remove_all(result.folder, error);
  if (error) return util::FileError(result.folder, "cannot remove the previous run of this part", error.value());
  fs::rename(partial, result.folder, error);
  if (error) return util::FileError(result.folder, "cannot rename the finished part into place", error.value());
  guard.Release();
  return result;
}

}  // namespace cloze::data
