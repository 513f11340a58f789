#include "data/example_pipeline.h"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "util/random.h"

namespace cloze::data {
namespace {

struct Block {
  int64_t index = 0;  // in this run, for writing in order
  uint64_t key = 0;   // (unit << 32) | block within the unit, for randomness
  std::vector<Document> documents;
  std::vector<Example> examples;
  PipelineStats stats;
};

void CountExample(const Example& example, const std::vector<int32_t>& original_at_masked, int32_t mask_id,
                  PipelineStats& stats) {
  ++stats.examples;
  stats.tokens += example.input_ids_size();
  const size_t bucket = static_cast<size_t>(example.input_ids_size() / 16);
  if (stats.length_histogram.size() <= bucket) stats.length_histogram.resize(bucket + 1);
  ++stats.length_histogram[bucket];
  stats.sentence_label_1 += example.sentence_label();
  for (int k = 0; k < example.masked_positions_size(); ++k) {
    const int32_t now = example.input_ids(example.masked_positions(k));
    ++stats.masked;
    if (now == mask_id) {
      ++stats.masked_as_mask;
    } else if (now == original_at_masked[k]) {
      ++stats.masked_kept;
    } else {
      ++stats.masked_random;
    }
  }
}

// Tokenizes and builds the examples of one block (worker threads).
void ProcessBlock(Block& block, const EncodeFunction& encode, const VocabInfo& vocab, const PipelineOptions& options) {
  std::vector<TokenizedDocument> documents;
  documents.reserve(block.documents.size());
  for (Document& document : block.documents) {
    TokenizedDocument tokenized;
    for (const std::string& sentence : document.sentences) {
      std::vector<int32_t> ids = encode(sentence);
      if (!ids.empty()) tokenized.push_back(std::move(ids));
    }
    if (!tokenized.empty()) documents.push_back(std::move(tokenized));
  }
  block.documents.clear();
  block.documents.shrink_to_fit();
  for (int pass = 0; pass < options.dupe_factor; ++pass) {
    for (size_t d = 0; d < documents.size(); ++d) {
      util::Rng rng(util::MixKey(options.seed, block.key, static_cast<uint64_t>(pass), d));
      const size_t first = block.examples.size();
      block.stats.one_sentence_chunks += BuildInstances(documents, d, options.instance, vocab, rng, &block.examples);
      for (size_t e = first; e < block.examples.size(); ++e) {
        Example& example = block.examples[e];
        std::vector<int32_t> originals;
        if (!options.dynamic_masking) {
          const std::vector<int> spans = MaskExample(&example, vocab, options.masking, rng);
          for (int n : spans) {
            if (block.stats.ngram_spans.size() < static_cast<size_t>(n)) block.stats.ngram_spans.resize(n);
            ++block.stats.ngram_spans[n - 1];
          }
          originals.assign(example.masked_labels().begin(), example.masked_labels().end());
        }
        CountExample(example, originals, vocab.mask_id, block.stats);
      }
    }
  }
  block.stats.blocks = 1;
}

}  // namespace

void PipelineStats::Merge(const PipelineStats& other) {
  blocks += other.blocks;
  examples += other.examples;
  tokens += other.tokens;
  masked += other.masked;
  masked_as_mask += other.masked_as_mask;
  masked_kept += other.masked_kept;
  masked_random += other.masked_random;
  sentence_label_1 += other.sentence_label_1;
  one_sentence_chunks += other.one_sentence_chunks;
  if (ngram_spans.size() < other.ngram_spans.size()) ngram_spans.resize(other.ngram_spans.size());
  for (size_t i = 0; i < other.ngram_spans.size(); ++i) ngram_spans[i] += other.ngram_spans[i];
  if (length_histogram.size() < other.length_histogram.size()) length_histogram.resize(other.length_histogram.size());
  for (size_t i = 0; i < other.length_histogram.size(); ++i) length_histogram[i] += other.length_histogram[i];
}

absl::StatusOr<PipelineStats> RunExamplePipeline(DocumentSource& source, const EncodeFunction& encode,
                                                 const VocabInfo& vocab, const PipelineOptions& options,
                                                 ExampleSink& sink) {
  const int threads = std::max(1, options.threads);
  const size_t max_in_flight = 2 * static_cast<size_t>(threads) + 2;

  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::unique_ptr<Block>> todo;           // read, not yet processed
  std::map<int64_t, std::unique_ptr<Block>> done;    // processed, not yet written
  size_t in_flight = 0;                              // blocks read and not yet written
  bool reading_finished = false;

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      while (true) {
        std::unique_ptr<Block> block;
        {
          std::unique_lock<std::mutex> lock(mu);
          changed.wait(lock, [&] { return !todo.empty() || reading_finished; });
          if (todo.empty()) return;
          block = std::move(todo.front());
          todo.pop_front();
        }
        ProcessBlock(*block, encode, vocab, options);
        {
          std::lock_guard<std::mutex> lock(mu);
          const int64_t index = block->index;
          done[index] = std::move(block);
        }
        changed.notify_all();
      }
    });
  }

  PipelineStats total;
  absl::Status status;
  int64_t next_to_write = 0;
  // Hands every finished block that is next in order to the sink.
  auto write_ready = [&](std::unique_lock<std::mutex>& lock) {
    while (status.ok()) {
      auto it = done.find(next_to_write);
      if (it == done.end()) return;
      std::unique_ptr<Block> block = std::move(it->second);
      done.erase(it);
      lock.unlock();
      for (const Example& example : block->examples) {
        status = sink.Add(example);
        if (!status.ok()) break;
      }
      total.Merge(block->stats);
      lock.lock();
      ++next_to_write;
      --in_flight;
    }
  };

  int64_t blocks_read = 0;
  int64_t unit = 0;
  uint64_t block_in_unit = 0;
  auto block = std::make_unique<Block>();
  int64_t block_bytes = 0;
  auto submit = [&](std::unique_ptr<Block> full) {
    full->key = (static_cast<uint64_t>(unit) << 32) | block_in_unit++;
    std::unique_lock<std::mutex> lock(mu);
    // Wait for room, writing finished blocks meanwhile (this thread is the writer).
    while (status.ok()) {
      write_ready(lock);
      if (in_flight < max_in_flight) break;
      changed.wait(lock, [&] { return done.count(next_to_write) > 0; });
    }
    full->index = blocks_read++;
    ++in_flight;
    todo.push_back(std::move(full));
    changed.notify_all();
  };

  Document document;
  while (status.ok()) {
    absl::StatusOr<bool> got = source.Next(&document);
    if (!got.ok()) {
      status = got.status();
      break;
    }
    if (!*got) break;
    const size_t file = source.last_file_index();
    const int64_t document_unit = file < options.file_units.size() ? options.file_units[file] : 0;
    if (document_unit != unit) {
      if (!block->documents.empty()) {
        submit(std::move(block));
        block = std::make_unique<Block>();
        block_bytes = 0;
      }
      unit = document_unit;
      block_in_unit = 0;
    }
    block_bytes += document.bytes;
    block->documents.push_back(std::move(document));
    document = Document();
    if (static_cast<int>(block->documents.size()) >= options.block_documents || block_bytes >= options.block_bytes) {
      submit(std::move(block));
      block = std::make_unique<Block>();
      block_bytes = 0;
    }
  }
  if (status.ok() && !block->documents.empty()) submit(std::move(block));

  {
    std::unique_lock<std::mutex> lock(mu);
    reading_finished = true;
    changed.notify_all();
    while (status.ok() && in_flight > 0) {
      write_ready(lock);
      if (in_flight == 0 || !status.ok()) break;
      changed.wait(lock, [&] { return done.count(next_to_write) > 0; });
    }
    if (!status.ok()) todo.clear();  // stop: workers finish what they hold and exit
  }
  changed.notify_all();
  for (std::thread& worker : workers) worker.join();
  if (!status.ok()) return status;
  return total;
}

}  // namespace cloze::data
