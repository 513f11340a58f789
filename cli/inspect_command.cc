// cloze inspect: what a prepared dataset holds, with examples decoded back to text.
#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "data/data_health.h"
#include "data/dataset_reader.h"
#include "data/prepare.h"
#include "data/tokenizer.h"
#include "google/protobuf/text_format.h"

ABSL_FLAG(int, examples, 3, "cloze inspect: examples to decode and print");
ABSL_FLAG(int64_t, limit, -1, "cloze inspect: scan at most this many examples for statistics (-1: all)");
ABSL_FLAG(bool, verify, false, "cloze inspect: recompute every shard's content hash");

namespace cloze::cli {
namespace {

using ::cloze::Example;

struct Statistics {
  int64_t examples = 0, tokens = 0, masked = 0, as_mask = 0, kept = 0, random = 0, label_1 = 0;
  std::vector<int64_t> lengths;  // histogram, buckets of bucket_width tokens
  int bucket_width = 16;

  void Add(const Example& e, int32_t mask_id) {
    ++examples;
    tokens += e.input_ids_size();
    label_1 += e.sentence_label();
    const size_t bucket = static_cast<size_t>(e.input_ids_size() / bucket_width);
    if (lengths.size() <= bucket) lengths.resize(bucket + 1);
    ++lengths[bucket];
    for (int k = 0; k < e.masked_positions_size(); ++k) {
      const int32_t now = e.input_ids(e.masked_positions(k));
      ++masked;
      as_mask += now == mask_id;
      kept += now == e.masked_labels(k);
      random += now != mask_id && now != e.masked_labels(k);
    }
  }
};

// `dataset_examples`: the whole dataset's, which the metadata's corpus counts describe.
void PrintStatistics(const Statistics& s, const ShardMetadata& meta, int64_t dataset_examples) {
  std::printf("scanned %lld examples: %lld tokens (%.1f per example)\n", static_cast<long long>(s.examples),
              static_cast<long long>(s.tokens), static_cast<double>(s.tokens) / std::max<int64_t>(1, s.examples));
  if (s.masked > 0) {
    std::printf("masked: %lld (%.2f%% of tokens, %.1f per example): [MASK] %.1f%%, kept %.1f%%, random %.1f%%\n",
                static_cast<long long>(s.masked), 100.0 * s.masked / s.tokens,
                static_cast<double>(s.masked) / s.examples, 100.0 * s.as_mask / s.masked, 100.0 * s.kept / s.masked,
                100.0 * s.random / s.masked);
  } else {
    std::printf("masked: none stored (dynamic masking)\n");
  }
  data::CorpusHealth health;
  health.corpus = meta.corpus();
  health.examples = s.examples;
  health.dataset_examples = dataset_examples;
  health.tokens = s.tokens;
  health.sentence_label_1 = s.label_1;
  health.max_seq_length = meta.data_config().max_seq_length();
  health.sentence_task = meta.data_config().sentence_task();
  for (const std::string& line : data::HealthLines(health)) std::printf("%s\n", line.c_str());
  for (const std::string& line : data::HealthWarnings(health)) std::printf("warning: %s\n", line.c_str());
  std::printf("length histogram:\n");
  const int64_t peak = *std::max_element(s.lengths.begin(), s.lengths.end());
  for (size_t b = 0; b < s.lengths.size(); ++b) {
    if (s.lengths[b] == 0) continue;
    const int bar = static_cast<int>(40.0 * s.lengths[b] / std::max<int64_t>(1, peak));
    std::printf("  %4zu-%-4zu %8lld %s\n", b * s.bucket_width, (b + 1) * s.bucket_width - 1,
                static_cast<long long>(s.lengths[b]), std::string(bar, '#').c_str());
  }
}

// "[CLS] a b [SEP] c [MASK]→d [SEP]": segments as text, each masked position with its label.
std::string DecodeExample(const Example& e, const data::Tokenizer& t) {
  std::vector<int32_t> ids(e.input_ids().begin(), e.input_ids().end());
  std::string out = absl::StrCat("  segment A: ", t.Decode({ids.begin() + 1, ids.begin() + e.segment_b_start() - 1}),
                                 "\n  segment B: ", t.Decode({ids.begin() + e.segment_b_start(), ids.end() - 1}),
                                 "\n  sentence label: ", e.sentence_label(), "\n  predictions:");
  for (int k = 0; k < e.masked_positions_size(); ++k) {
    absl::StrAppend(&out, " ", e.masked_positions(k), ":", t.IdToPiece(ids[e.masked_positions(k)]), "→",
                    t.IdToPiece(e.masked_labels(k)));
  }
  return out;
}

}  // namespace

int RunInspectCommand(const std::vector<std::string>& args) {
  if (args.size() != 1) {
    std::fprintf(stderr, "usage: cloze inspect DATASET_DIR [--examples=N --limit=N --verify]\n");
    return 2;
  }
  const std::string& dir = args[0];
  absl::StatusOr<std::unique_ptr<data::DatasetReader>> reader = data::DatasetReader::Open(dir);
  if (!reader.ok()) {
    std::fprintf(stderr, "cloze inspect: %s\n", std::string(reader.status().message()).c_str());
    return 1;
  }
  data::DatasetReader& r = **reader;
  const ShardMetadata& meta = r.shard_metadata(0);
  std::string config_text;
  google::protobuf::TextFormat::PrintToString(meta.data_config(), &config_text);
  std::printf("%s: %lld examples in %d shards, vocabulary %d\ntokenizer: %s\ndata config:\n%s", dir.c_str(),
              static_cast<long long>(r.size()), r.shard_count(), meta.vocab_size(),
              meta.tokenizer_fingerprint().c_str(), config_text.c_str());

  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadDatasetTokenizer(dir, meta);
  if (!tokenizer.ok()) {
    std::fprintf(stderr, "cloze inspect: %s\n", std::string(tokenizer.status().message()).c_str());
    return 1;
  }

  Statistics statistics;
  const int64_t limit = absl::GetFlag(FLAGS_limit) < 0 ? r.size() : std::min(r.size(), absl::GetFlag(FLAGS_limit));
  for (int64_t i = 0; i < limit; ++i) {
    absl::StatusOr<Example> example = r.Get(i);
    if (!example.ok()) {
      std::fprintf(stderr, "cloze inspect: %s\n", std::string(example.status().message()).c_str());
      return 1;
    }
    statistics.Add(*example, (*tokenizer)->mask_id());
    if (i < absl::GetFlag(FLAGS_examples)) {
      std::printf("example %lld (%d tokens):\n%s\n", static_cast<long long>(i), example->input_ids_size(),
                  DecodeExample(*example, **tokenizer).c_str());
    }
  }
  PrintStatistics(statistics, meta, r.size());
  if (absl::GetFlag(FLAGS_verify)) {
    if (absl::Status s = r.VerifyContent(); !s.ok()) {
      std::fprintf(stderr, "cloze inspect: %s\n", std::string(s.message()).c_str());
      return 1;
    }
    std::printf("content hashes: all %d shards verified\n", r.shard_count());
  }
  return 0;
}

}  // namespace cloze::cli
