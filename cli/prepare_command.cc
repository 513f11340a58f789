// cloze prepare: raw text → tokens → ALBERT examples → sharded RocksDB dataset.
#include <chrono>
#include <cstdio>
#include <map>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/common_flags.h"
#include "data/data_config.h"
#include "data/data_health.h"
#include "data/input_units.h"
#include "data/prepare.h"
#include "data/prepare_part.h"
#include "util/exit_status.h"

ABSL_FLAG(std::vector<std::string>, input, {},
          "cloze prepare: input files or folders, comma-separated; cloze predict: the file to predict");
ABSL_FLAG(std::string, input_format, "auto",
          "cloze prepare: auto (detected per file), bert, paragraphs, lines, wikitext, wikiextractor, wrapped, "
          "chinese, jsonl (data/input_format.h)");
ABSL_FLAG(bool, chapters, false, "cloze prepare: wrapped and chinese input: a document per chapter, not per file");
ABSL_FLAG(std::string, output, "",
          "cloze prepare: dataset folder to create (must not exist or be empty); cloze predict: the JSON lines "
          "file (default: stdout); cloze report: the HTML page (default RUN_DIR/report.html)");
ABSL_FLAG(std::string, tokenizer, "", "cloze prepare: spm:PATH, spm-albert:PATH, spm-train:VOCAB_SIZE, wordpiece:PATH");
ABSL_FLAG(int, max_seq_length, 0,
          "tokens per example, [CLS] and [SEP]s included (0: the command's default: prepare 512, finetune 128, "
          "squad 384)");
ABSL_FLAG(double, short_seq_prob, 0.1, "cloze prepare: probability of a shorter target length");
ABSL_FLAG(double, masked_lm_prob, 0.15, "cloze prepare: share of tokens to predict");
ABSL_FLAG(int, max_predictions_per_seq, 20, "cloze prepare: at most this many predictions per example");
ABSL_FLAG(int, max_ngram, 3, "cloze prepare: n-gram masking up to n, p(n) ∝ 1/n");
ABSL_FLAG(bool, whole_word_mask, true, "cloze prepare: mask every piece of a word together");
ABSL_FLAG(std::string, sentence_task, "sop", "cloze prepare: sop (ALBERT) or nsp (BERT)");
ABSL_FLAG(int, dupe_factor, 1, "cloze prepare: passes over the corpus with fresh masks");
ABSL_FLAG(bool, dynamic_masking, false, "cloze prepare: store unmasked examples; mask when reading");
ABSL_FLAG(int, shards, 4, "cloze prepare: number of shards");
ABSL_FLAG(int64_t, spm_train_sentences, 2000000, "cloze prepare: at most this many sentences train spm-train:");
ABSL_FLAG(int, part, -1,
          "cloze prepare: build only part I (from 0) of --parts=N into DIR/parts; then cloze prepare --merge");
ABSL_FLAG(int, parts, 0, "cloze prepare --part, --merge: the number of parts");
ABSL_FLAG(bool, merge, false, "cloze prepare: write the dataset in --output from its --parts=N finished parts");
ABSL_FLAG(int64_t, unit_bytes, cloze::data::kDefaultUnitBytes,
          "cloze prepare: input files are built in units of at least this many bytes, the pieces parts share "
          "out; it shapes inputs larger than one unit, so keep the default (tests use small units)");

namespace cloze::cli {
namespace {

using ::cloze::DataConfig;
using ::cloze::PreparedPart;

absl::StatusOr<DataConfig> ConfigFromFlags() {
  DataConfig c = data::DefaultDataConfig();
  c.set_tokenizer(absl::GetFlag(FLAGS_tokenizer));
  c.set_max_seq_length(OrCommandDefault(absl::GetFlag(FLAGS_max_seq_length), 512));
  c.set_short_seq_prob(static_cast<float>(absl::GetFlag(FLAGS_short_seq_prob)));
  c.set_masked_lm_prob(static_cast<float>(absl::GetFlag(FLAGS_masked_lm_prob)));
  c.set_max_predictions_per_seq(absl::GetFlag(FLAGS_max_predictions_per_seq));
  c.set_max_ngram(absl::GetFlag(FLAGS_max_ngram));
  c.set_whole_word_mask(absl::GetFlag(FLAGS_whole_word_mask));
  const std::string task = absl::GetFlag(FLAGS_sentence_task);
  if (task == "sop") {
    c.set_sentence_task(DataConfig::SENTENCE_ORDER);
  } else if (task == "nsp") {
    c.set_sentence_task(DataConfig::NEXT_SENTENCE);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--sentence_task: \"", task, "\" is neither sop nor nsp"));
  }
  c.set_dupe_factor(absl::GetFlag(FLAGS_dupe_factor));
  c.set_seed(SeedFlag());
  c.set_dynamic_masking(absl::GetFlag(FLAGS_dynamic_masking));
  c.set_shards(absl::GetFlag(FLAGS_shards));
  if (absl::Status s = data::ValidateDataConfig(c); !s.ok()) return s;
  return c;
}

// Each file's format and why; past the first few files, a count per format.
void PrintFormats(const std::vector<data::FileFormat>& formats) {
  constexpr size_t kListed = 20;
  std::map<std::string, int64_t> rest;
  for (size_t i = 0; i < formats.size(); ++i) {
    const data::FileFormat& f = formats[i];
    if (i < kListed) {
      std::printf("format: %s: %s (%s)\n", f.path.c_str(), f.decision.format.c_str(), f.decision.reason.c_str());
    } else {
      ++rest[f.decision.format];
    }
  }
  if (rest.empty()) return;
  std::printf("format: %zu more files:", formats.size() - kListed);
  for (const auto& [format, count] : rest) std::printf(" %lld %s", static_cast<long long>(count), format.c_str());
  std::printf("\n");
}

void PrintSummary(const data::InputStats& in, const data::PipelineStats& out, const DataConfig& config,
                  int64_t max_line_bytes, double seconds) {
  std::printf("input: %lld files, %.1f MB, %lld documents, %lld sentences\n", static_cast<long long>(in.files),
              in.bytes / 1e6, static_cast<long long>(in.documents), static_cast<long long>(in.sentences));
  std::printf("skipped: %lld lines (%lld invalid UTF-8, %lld binary, %lld over the length limit of %lld bytes, "
              "%lld bad JSON), %lld empty documents\n",
              static_cast<long long>(in.skipped_lines()), static_cast<long long>(in.invalid_utf8_lines),
              static_cast<long long>(in.binary_lines), static_cast<long long>(in.overlong_lines),
              static_cast<long long>(max_line_bytes),
              static_cast<long long>(in.bad_json_lines), static_cast<long long>(in.empty_documents));
  std::printf("examples: %lld in %d shards, %lld tokens (%.1f per example)\n", static_cast<long long>(out.examples),
              config.shards(), static_cast<long long>(out.tokens),
              out.examples > 0 ? static_cast<double>(out.tokens) / out.examples : 0.0);
  if (!config.dynamic_masking() && out.masked > 0) {
    std::printf("masked: %lld (%.2f%% of tokens): [MASK] %.1f%%, kept %.1f%%, random %.1f%%\n",
                static_cast<long long>(out.masked), 100.0 * out.masked / out.tokens,
                100.0 * out.masked_as_mask / out.masked, 100.0 * out.masked_kept / out.masked,
                100.0 * out.masked_random / out.masked);
    int64_t spans = 0;
    for (int64_t s : out.ngram_spans) spans += s;
    std::printf("n-gram spans:");
    for (size_t n = 0; n < out.ngram_spans.size(); ++n) {
      std::printf(" %zu: %.1f%%", n + 1, 100.0 * out.ngram_spans[n] / std::max<int64_t>(spans, 1));
    }
    std::printf("\n");
  }
  data::CorpusHealth health;
  health.corpus.set_documents(in.documents);
  health.corpus.set_sentences(in.sentences);
  health.corpus.set_one_sentence_chunks(out.one_sentence_chunks);
  health.examples = out.examples;
  health.tokens = out.tokens;
  health.sentence_label_1 = out.sentence_label_1;
  health.max_seq_length = config.max_seq_length();
  health.sentence_task = config.sentence_task();
  for (const std::string& line : data::HealthLines(health)) std::printf("%s\n", line.c_str());
  for (const std::string& line : data::HealthWarnings(health)) std::printf("warning: %s\n", line.c_str());
  std::printf("time: %.1f s, %.2f MB/s\n", seconds, in.bytes / 1e6 / std::max(seconds, 1e-9));
}

// Peak resident memory of this process so far, from /proc (0 if unavailable).
double PeakRssMegabytes() {
  std::FILE* status = std::fopen("/proc/self/status", "r");
  if (status == nullptr) return 0;
  char line[256];
  long kilobytes = 0;
  while (std::fgets(line, sizeof line, status) != nullptr) {
    if (std::sscanf(line, "VmHWM: %ld kB", &kilobytes) == 1) break;
  }
  std::fclose(status);
  return kilobytes / 1024.0;
}

// The exit status of a failed prepare, after saying why.
int Failure(const absl::Status& status) {
  std::fprintf(stderr, "cloze prepare: %s\n", std::string(status.message()).c_str());
  if (ExitStatusOf(status) == kExitCannotWrite) return kExitCannotWrite;  // a full or read-only output folder
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

// cloze prepare --part=I --parts=N: this machine's share, summarized as a whole prepare is.
int RunPart(const data::PrepareOptions& options, std::chrono::steady_clock::time_point start) {
  const int part = absl::GetFlag(FLAGS_part), parts = absl::GetFlag(FLAGS_parts);
  absl::StatusOr<data::PartResult> result = data::PreparePart(options, part, parts);
  if (!result.ok()) return Failure(result.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const PreparedPart& m = result->manifest;
  std::printf("prepared part %d of %d (units %lld to %lld of %lld) in %s with %d threads\n", part, parts,
              static_cast<long long>(m.first_unit()), static_cast<long long>(m.end_unit()),
              static_cast<long long>(m.unit_count()), result->folder.c_str(), options.threads);
  PrintFormats(result->formats);
  PrintSummary(result->input, result->examples, m.data_config(), options.source.max_line_bytes, seconds);
  std::printf("peak memory: %.0f MB\n", PeakRssMegabytes());
  std::printf("next: when all %d parts are done, cloze prepare --merge --parts=%d --output=%s\n", parts, parts,
              options.output.c_str());
  if (result->input.skipped_lines() + result->input.empty_documents > 0) {
    std::printf("note: some input was skipped (counted above); exit status 3\n");
    return 3;
  }
  return 0;
}

// cloze prepare --merge --parts=N --output=DIR.
int RunMerge() {
  const std::string output = absl::GetFlag(FLAGS_output);
  const int parts = absl::GetFlag(FLAGS_parts);
  if (output.empty() || parts < 1) {
    std::fprintf(stderr, "usage: cloze prepare --merge --parts=N --output=DIR\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<data::MergeResult> result = data::MergeParts(output, parts);
  if (!result.ok()) return Failure(result.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("merged %d parts into %s\n", parts, output.c_str());
  std::printf("input: %lld files, %.1f MB, %lld documents, %lld sentences\n",
              static_cast<long long>(result->input_files), result->input_bytes / 1e6,
              static_cast<long long>(result->corpus.documents()), static_cast<long long>(result->corpus.sentences()));
  std::printf("examples: %lld in %d shards, %lld tokens (%.1f per example)\n",
              static_cast<long long>(result->examples), result->config.shards(),
              static_cast<long long>(result->tokens), static_cast<double>(result->tokens) / result->examples);
  data::CorpusHealth health;
  health.corpus = result->corpus;
  health.examples = result->examples;
  health.tokens = result->tokens;
  health.sentence_label_1 = result->sentence_label_1;
  health.max_seq_length = result->config.max_seq_length();
  health.sentence_task = result->config.sentence_task();
  for (const std::string& line : data::HealthLines(health)) std::printf("%s\n", line.c_str());
  for (const std::string& line : data::HealthWarnings(health)) std::printf("warning: %s\n", line.c_str());
  std::printf("time: %.1f s\n", seconds);
  return 0;
}

}  // namespace

int RunPrepareCommand(const std::vector<std::string>& args) {
  if (absl::GetFlag(FLAGS_merge)) return RunMerge();
  data::PrepareOptions options;
  options.inputs = absl::GetFlag(FLAGS_input);
  options.inputs.insert(options.inputs.end(), args.begin(), args.end());
  options.source.format = absl::GetFlag(FLAGS_input_format);
  options.source.chapters = absl::GetFlag(FLAGS_chapters);
  options.output = absl::GetFlag(FLAGS_output);
  if (options.inputs.empty() || options.output.empty() || absl::GetFlag(FLAGS_tokenizer).empty()) {
    std::fprintf(stderr, "usage: cloze prepare --input=FILES_OR_FOLDERS --output=DIR --tokenizer=SPEC [options]\n");
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<DataConfig> config = ConfigFromFlags();
  if (!config.ok()) return Failure(config.status());
  options.config = *config;
  options.threads = CommandThreads();
  options.spm_train_sentences = absl::GetFlag(FLAGS_spm_train_sentences);
  options.unit_bytes = absl::GetFlag(FLAGS_unit_bytes);
  if (absl::GetFlag(FLAGS_part) >= 0 || absl::GetFlag(FLAGS_parts) > 0) return RunPart(options, start);
  absl::StatusOr<data::PrepareResult> result = data::PrepareDataset(options);
  if (!result.ok()) return Failure(result.status());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("prepared %s with %d threads\n", options.output.c_str(), options.threads);
  PrintFormats(result->formats);
  PrintSummary(result->input, result->examples, result->config, options.source.max_line_bytes, seconds);
  std::printf("peak memory: %.0f MB\n", PeakRssMegabytes());
  if (result->input.skipped_lines() + result->input.empty_documents > 0) {
    std::printf("note: some input was skipped (counted above); exit status 3\n");
    return 3;
  }
  return 0;
}

}  // namespace cloze::cli
