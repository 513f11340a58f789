#include "data/instance_builder.h"

#include <deque>

namespace cloze::data {
namespace {

// Removes tokens from the longer of a and b, from its front or back at random, until
// both fit in max_tokens together.
void TruncatePair(std::deque<int32_t>& a, std::deque<int32_t>& b, int max_tokens, util::Rng& rng) {
  while (static_cast<int>(a.size() + b.size()) > max_tokens) {
    std::deque<int32_t>& longer = a.size() > b.size() ? a : b;
    if (rng.Uniform() < 0.5) {
      longer.pop_front();
    } else {
      longer.pop_back();
    }
  }
}

}  // namespace

int BuildInstances(const std::vector<TokenizedDocument>& documents, size_t index, const InstanceOptions& options,
                   const VocabInfo& vocab, util::Rng& rng, std::vector<Example>* out) {
  const TokenizedDocument& document = documents[index];
  const int max_tokens = options.max_seq_length - 3;  // [CLS] A [SEP] B [SEP]
  auto draw_target_length = [&] {
    return rng.Uniform() < options.short_seq_prob ? static_cast<int>(rng.UniformInt(2, max_tokens)) : max_tokens;
  };
  int target_length = draw_target_length();
  int one_sentence_chunks = 0;
  const bool next_sentence = options.sentence_task == DataConfig::NEXT_SENTENCE;

  std::vector<const std::vector<int32_t>*> chunk;
  int chunk_length = 0;
  for (int i = 0; i < static_cast<int>(document.size()); ++i) {
    chunk.push_back(&document[i]);
    chunk_length += static_cast<int>(document[i].size());
    if (i != static_cast<int>(document.size()) - 1 && chunk_length < target_length) continue;

    const int a_end = chunk.size() >= 2 ? static_cast<int>(rng.UniformInt(1, static_cast<int>(chunk.size()) - 1)) : 1;
    std::deque<int32_t> a, b;
    for (int j = 0; j < a_end; ++j) a.insert(a.end(), chunk[j]->begin(), chunk[j]->end());
    int label = 0;
    if (chunk.size() == 1 || (next_sentence && rng.Uniform() < 0.5)) {
      label = 1;
      one_sentence_chunks += chunk.size() == 1;
      const int target_b = target_length - static_cast<int>(a.size());
      size_t other = index;
      for (int attempt = 0; attempt < 10; ++attempt) {
        other = static_cast<size_t>(rng.UniformInt(0, static_cast<int64_t>(documents.size()) - 1));
        if (other != index) break;
      }
      const TokenizedDocument& random_document = documents[other];
      const int start = static_cast<int>(rng.UniformInt(0, static_cast<int64_t>(random_document.size()) - 1));
      for (int j = start; j < static_cast<int>(random_document.size()); ++j) {
        b.insert(b.end(), random_document[j].begin(), random_document[j].end());
        if (static_cast<int>(b.size()) >= target_b) break;
      }
      i -= static_cast<int>(chunk.size()) - a_end;  // the unused sentences go back
    } else if (!next_sentence && rng.Uniform() < 0.5) {
      label = 1;  // sentence order swapped
      for (size_t j = a_end; j < chunk.size(); ++j) b.insert(b.end(), chunk[j]->begin(), chunk[j]->end());
      std::swap(a, b);
    } else {
      for (size_t j = a_end; j < chunk.size(); ++j) b.insert(b.end(), chunk[j]->begin(), chunk[j]->end());
    }
    TruncatePair(a, b, max_tokens, rng);

    Example& example = out->emplace_back();
    auto* ids = example.mutable_input_ids();
    ids->Reserve(static_cast<int>(a.size() + b.size()) + 3);
    ids->Add(vocab.cls_id);
    for (int32_t id : a) ids->Add(id);
    ids->Add(vocab.sep_id);
    example.set_segment_b_start(ids->size());
    for (int32_t id : b) ids->Add(id);
    ids->Add(vocab.sep_id);
    example.set_sentence_label(label);

    chunk.clear();
    chunk_length = 0;
    target_length = draw_target_length();
  }
  return one_sentence_chunks;
}

}  // namespace cloze::data
