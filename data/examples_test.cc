// Instance building, masking and the parallel pipeline, with a toy tokenizer whose long
// words are two pieces (so whole-word masking has something to do).
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/dynamic_masking.h"
#include "data/example_pipeline.h"
#include "data/instance_builder.h"
#include "data/masking.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

constexpr int32_t kVocab = 1000;

VocabInfo ToyVocab() {
  VocabInfo vocab;
  vocab.vocab_size = kVocab;
  vocab.word_start.assign(kVocab, 1);
  for (int32_t id = 500; id < kVocab; ++id) vocab.word_start[id] = 0;  // continuation pieces
  return vocab;
}

// Words → ids in [5, 500); a word longer than six letters gets a continuation piece.
std::vector<int32_t> ToyEncode(std::string_view sentence) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start < sentence.size()) {
    size_t end = sentence.find(' ', start);
    if (end == std::string_view::npos) end = sentence.size();
    const std::string_view word = sentence.substr(start, end - start);
    if (!word.empty()) {
      const uint64_t h = std::hash<std::string_view>()(word);
      ids.push_back(static_cast<int32_t>(5 + h % 495));
      if (word.size() > 6) ids.push_back(static_cast<int32_t>(500 + (h >> 20) % 500));
    }
    start = end + 1;
  }
  return ids;
}

TokenizedDocument RandomDocument(util::Rng& rng, int sentences) {
  TokenizedDocument document;
  for (int s = 0; s < sentences; ++s) {
    std::vector<int32_t> ids;
    const int n = static_cast<int>(rng.UniformInt(3, 25));
    for (int i = 0; i < n; ++i) ids.push_back(static_cast<int32_t>(rng.UniformInt(5, kVocab - 1)));
    document.push_back(ids);
  }
  return document;
}

TEST(InstanceBuilder, LayoutLengthsAndSentenceOrderLabels) {
  util::Rng rng(1);
  std::vector<TokenizedDocument> documents;
  for (int d = 0; d < 50; ++d) documents.push_back(RandomDocument(rng, static_cast<int>(rng.UniformInt(1, 30))));
  const VocabInfo vocab = ToyVocab();
  InstanceOptions options{.max_seq_length = 64, .short_seq_prob = 0.1f};
  std::vector<Example> examples;
  for (size_t d = 0; d < documents.size(); ++d) {
    util::Rng doc_rng(util::MixKey(7, d));
    BuildInstances(documents, d, options, vocab, doc_rng, &examples);
  }
  ASSERT_GT(examples.size(), 150u);
  int64_t swapped = 0, full = 0;
  for (const Example& e : examples) {
    ASSERT_LE(e.input_ids_size(), options.max_seq_length);
    ASSERT_EQ(e.input_ids(0), vocab.cls_id);
    ASSERT_EQ(e.input_ids(e.segment_b_start() - 1), vocab.sep_id);
    ASSERT_EQ(e.input_ids(e.input_ids_size() - 1), vocab.sep_id);
    ASSERT_GE(e.segment_b_start(), 3);                       // A has a token
    ASSERT_LE(e.segment_b_start(), e.input_ids_size() - 2);  // B has a token
    swapped += e.sentence_label();
    full += e.input_ids_size() >= options.max_seq_length - 8;
  }
  // SOP: half swapped, plus single-sentence chunks that take a random B (as ALBERT).
  const double rate = static_cast<double>(swapped) / examples.size();
  EXPECT_GT(rate, 0.4);
  EXPECT_LT(rate, 0.65);
  EXPECT_GT(full, static_cast<int64_t>(examples.size()) / 2);  // most examples fill the length
}

// A book as one document: about one example in ten is short (the target length is drawn
// per chunk, not once per document as in ALBERT), the rest are full.
TEST(InstanceBuilder, ShortTargetsAreDrawnPerChunk) {
  util::Rng rng(3);
  const std::vector<TokenizedDocument> documents = {RandomDocument(rng, 20000), RandomDocument(rng, 10)};
  std::vector<Example> examples;
  util::Rng doc_rng(util::MixKey(7, 0));
  const int one_sentence = BuildInstances(documents, 0, {.max_seq_length = 128, .short_seq_prob = 0.1f}, ToyVocab(),
                                          doc_rng, &examples);
  ASSERT_GT(examples.size(), 1000u);
  int64_t short_examples = 0, label_1 = 0;
  for (const Example& e : examples) {
    short_examples += e.input_ids_size() < 128 - 8;
    label_1 += e.sentence_label();
  }
  const double short_share = static_cast<double>(short_examples) / examples.size();
  EXPECT_GT(short_share, 0.05);
  EXPECT_LT(short_share, 0.15);
  EXPECT_GT(one_sentence, 0);
  EXPECT_LT(one_sentence, static_cast<int>(examples.size()) / 10);
  EXPECT_NEAR(static_cast<double>(label_1) / examples.size(), 0.5, 0.05);
}

TEST(InstanceBuilder, UnswappedPairsAreConsecutiveText) {
  util::Rng rng(2);
  std::vector<TokenizedDocument> documents = {RandomDocument(rng, 12), RandomDocument(rng, 12)};
  std::vector<int32_t> flat;
  for (const auto& s : documents[0]) flat.insert(flat.end(), s.begin(), s.end());
  std::vector<Example> examples;
  util::Rng doc_rng(3);
  // Long enough that no truncation happens.
  BuildInstances(documents, 0, {.max_seq_length = 1000, .short_seq_prob = 0.0f}, ToyVocab(), doc_rng, &examples);
  ASSERT_EQ(examples.size(), 1u);
  const Example& e = examples[0];
  std::vector<int32_t> a(e.input_ids().begin() + 1, e.input_ids().begin() + e.segment_b_start() - 1);
  std::vector<int32_t> b(e.input_ids().begin() + e.segment_b_start(), e.input_ids().end() - 1);
  std::vector<int32_t> joined = e.sentence_label() == 0 ? a : b;
  const std::vector<int32_t>& second = e.sentence_label() == 0 ? b : a;
  joined.insert(joined.end(), second.begin(), second.end());
  EXPECT_EQ(joined, flat);
}

TEST(Masking, BudgetPositionsLabelsAndWholeWords) {
  const VocabInfo vocab = ToyVocab();
  const MaskingOptions options{.masked_lm_prob = 0.15f, .max_predictions_per_seq = 20, .max_ngram = 3,
                               .whole_word_mask = true};
  util::Rng rng(4);
  int64_t tokens = 0, masked = 0, as_mask = 0, kept = 0, random = 0;
  std::vector<int64_t> spans(3);
  for (int trial = 0; trial < 2000; ++trial) {
    Example e;
    e.add_input_ids(vocab.cls_id);
    const int n = static_cast<int>(rng.UniformInt(10, 120));
    for (int i = 0; i < n; ++i) {
      // Every third word has a continuation piece.
      e.add_input_ids(static_cast<int32_t>(rng.UniformInt(5, 499)));
      if (i % 3 == 0) e.add_input_ids(static_cast<int32_t>(rng.UniformInt(500, kVocab - 1)));
    }
    e.add_input_ids(vocab.sep_id);
    const Example original = e;
    for (int span : MaskExample(&e, vocab, options, rng)) ++spans[span - 1];
    const int length = e.input_ids_size();
    const int budget = std::min(20, std::max(1, static_cast<int>(std::lround(length * 0.15))));
    ASSERT_LE(e.masked_positions_size(), budget);
    ASSERT_EQ(e.masked_positions_size(), e.masked_labels_size());
    std::set<int> positions;
    for (int k = 0; k < e.masked_positions_size(); ++k) {
      const int pos = e.masked_positions(k);
      if (k > 0) {
        ASSERT_GT(pos, e.masked_positions(k - 1));
      }
      ASSERT_NE(original.input_ids(pos), vocab.cls_id);
      ASSERT_NE(original.input_ids(pos), vocab.sep_id);
      ASSERT_EQ(e.masked_labels(k), original.input_ids(pos));
      positions.insert(pos);
      const int32_t now = e.input_ids(pos);
      as_mask += now == vocab.mask_id;
      kept += now == original.input_ids(pos);
      random += now != vocab.mask_id && now != original.input_ids(pos);
    }
    // Whole words: a continuation piece is masked exactly when its word start is.
    for (int i = 1; i < length; ++i) {
      if (!vocab.word_start[original.input_ids(i)]) {
        ASSERT_EQ(positions.count(i), positions.count(i - 1)) << "word split at " << i;
      }
    }
    // Unmasked positions are untouched.
    for (int i = 0; i < length; ++i) {
      if (!positions.count(i)) {
        ASSERT_EQ(e.input_ids(i), original.input_ids(i));
      }
    }
    tokens += length;
    masked += e.masked_positions_size();
  }
  EXPECT_NEAR(static_cast<double>(masked) / tokens, 0.15, 0.02);
  EXPECT_NEAR(static_cast<double>(as_mask) / masked, 0.8, 0.02);
  EXPECT_NEAR(static_cast<double>(kept) / masked, 0.1, 0.015);
  EXPECT_NEAR(static_cast<double>(random) / masked, 0.1, 0.015);
  // Near the budget long n-grams are shortened, so short ones dominate even more.
  EXPECT_GT(spans[0], spans[1]);
  EXPECT_GT(spans[1], spans[2]);
  EXPECT_GT(spans[2], 0);
}

// Where the budget rarely binds, chosen n-gram lengths follow p(n) ∝ 1/n: 6/11, 3/11,
// 2/11 (longer spans overlap earlier choices a little more often, as in ALBERT).
TEST(Masking, NgramLengthsFollowOneOverN) {
  const VocabInfo vocab = ToyVocab();
  const MaskingOptions options{.masked_lm_prob = 0.15f, .max_predictions_per_seq = 1000, .max_ngram = 3,
                               .whole_word_mask = false};
  util::Rng rng(6);
  std::vector<int64_t> spans(3);
  for (int trial = 0; trial < 300; ++trial) {
    Example e;
    for (int i = 0; i < 1000; ++i) e.add_input_ids(static_cast<int32_t>(rng.UniformInt(5, 499)));
    for (int span : MaskExample(&e, vocab, options, rng)) ++spans[span - 1];
  }
  const double all = spans[0] + spans[1] + spans[2];
  EXPECT_NEAR(spans[0] / all, 6.0 / 11, 0.03);
  EXPECT_NEAR(spans[1] / all, 3.0 / 11, 0.03);
  EXPECT_NEAR(spans[2] / all, 2.0 / 11, 0.03);
}

TEST(DynamicMasking, AFunctionOfSeedEpochAndIndex) {
  util::Rng rng(8);
  Example unmasked;
  unmasked.add_input_ids(2);
  for (int i = 0; i < 100; ++i) unmasked.add_input_ids(static_cast<int32_t>(rng.UniformInt(5, 499)));
  unmasked.add_input_ids(3);
  auto masked = [&](uint64_t seed, int64_t epoch, int64_t index) {
    Example e = unmasked;
    MaskDynamically(&e, ToyVocab(), MaskingOptions{}, seed, epoch, index);
    return e.SerializeAsString();
  };
  EXPECT_EQ(masked(1, 0, 7), masked(1, 0, 7));
  EXPECT_NE(masked(1, 0, 7), masked(1, 1, 7));  // a new epoch, new masks
  EXPECT_NE(masked(1, 0, 7), masked(1, 0, 8));
  EXPECT_NE(masked(1, 0, 7), masked(2, 0, 7));
  Example e = unmasked;
  MaskDynamically(&e, ToyVocab(), MaskingOptions{}, 1, 0, 7);
  EXPECT_EQ(e.masked_positions_size(), 15);  // round(102 × 0.15)
}

class CollectingSink : public ExampleSink {
 public:
  absl::Status Add(const Example& example) override {
    serialized.push_back(example.SerializeAsString());
    return absl::OkStatus();
  }
  std::vector<std::string> serialized;
};

std::string WriteCorpus() {
  const std::string path = ::testing::TempDir() + "/pipeline_corpus.txt";
  std::ofstream out(path);
  util::Rng rng(5);
  const char* words[] = {"alpha", "beta", "gamma", "delta", "epsilonic", "zetaform", "eta", "thetalong", "iota"};
  for (int d = 0; d < 700; ++d) {
    const int sentences = static_cast<int>(rng.UniformInt(1, 12));
    for (int s = 0; s < sentences; ++s) {
      const int n = static_cast<int>(rng.UniformInt(2, 30));
      for (int i = 0; i < n; ++i) out << words[rng.UniformInt(0, 8)] << (i + 1 < n ? " " : "\n");
    }
    out << "\n";
  }
  return path;
}

std::vector<std::string> RunWithThreads(const std::string& corpus, int threads, PipelineStats* stats) {
  auto source = DocumentSource::Open({corpus});
  EXPECT_TRUE(source.ok());
  PipelineOptions options;
  options.instance.max_seq_length = 64;
  options.threads = threads;
  options.dupe_factor = 2;
  options.block_documents = 50;  // many blocks, so threads really interleave
  CollectingSink sink;
  absl::StatusOr<PipelineStats> result = RunExamplePipeline(**source, ToyEncode, ToyVocab(), options, sink);
  EXPECT_TRUE(result.ok()) << result.status();
  if (result.ok()) *stats = *result;
  return sink.serialized;
}

TEST(ExamplePipeline, IdenticalForAnyThreadCount) {
  const std::string corpus = WriteCorpus();
  PipelineStats one, two, four;
  const auto a = RunWithThreads(corpus, 1, &one);
  const auto b = RunWithThreads(corpus, 2, &two);
  const auto c = RunWithThreads(corpus, 4, &four);
  ASSERT_GT(a.size(), 1000u);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_EQ(one.blocks, 14);
  EXPECT_EQ(one.examples, static_cast<int64_t>(a.size()));
  EXPECT_EQ(one.masked, four.masked);
}

class FailingSink : public ExampleSink {
 public:
  absl::Status Add(const Example&) override {
    return ++count > 100 ? absl::DataLossError("disk full (test)") : absl::OkStatus();
  }
  int count = 0;
};

TEST(ExamplePipeline, SinkErrorsStopThePipeline) {
  auto source = DocumentSource::Open({WriteCorpus()});
  ASSERT_TRUE(source.ok());
  PipelineOptions options;
  options.instance.max_seq_length = 64;
  options.threads = 3;
  options.block_documents = 20;
  FailingSink sink;
  absl::StatusOr<PipelineStats> result = RunExamplePipeline(**source, ToyEncode, ToyVocab(), options, sink);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().message(), "disk full (test)");
  EXPECT_EQ(sink.count, 101);
}

}  // namespace
}  // namespace cloze::data
