#include "model/synthetic_batch.h"

#include <algorithm>
#include <numeric>
#include <utility>
#include <vector>

namespace cloze {
namespace {

constexpr int32_t kClsId = 2;
constexpr int32_t kFirstOrdinaryId = 5;  // ALBERT's vocabulary: <pad> <unk> [CLS] [SEP] [MASK]

// SplitMix64 (Steele, Lea & Flood 2014): tiny, and trivial to reproduce in Python.
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Slightly biased for k not a power of two; irrelevant for a benchmark, and simple.
  int64_t Draw(int64_t k) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(k)); }

 private:
  uint64_t state_;
};

int SequenceLength(int b, int seq_len) { return std::max(2, seq_len - (b % 4) * (seq_len / 32)); }

}  // namespace

Batch MakeSyntheticBatch(const ModelConfig& config, int batch_size, int seq_len, int predictions_per_seq,
                         uint64_t seed) {
  SplitMix64 rng(seed);
  const int64_t ordinary_ids = config.vocab_size() - kFirstOrdinaryId;
  const int64_t tokens = int64_t{batch_size} * seq_len;
  Batch batch;
  batch.batch_size = batch_size;
  batch.seq_len = seq_len;
  batch.input_ids.assign(tokens, 0);
  batch.token_type_ids.assign(tokens, 0);
  batch.attention_mask.assign(tokens, 0);
  for (int b = 0; b < batch_size; ++b) {
    const int length = SequenceLength(b, seq_len);
    for (int t = 0; t < length; ++t) {
      const int64_t i = int64_t{b} * seq_len + t;
      batch.input_ids[i] = t == 0 ? kClsId : static_cast<int32_t>(kFirstOrdinaryId + rng.Draw(ordinary_ids));
      batch.token_type_ids[i] = t >= length / 2 ? 1 : 0;
      batch.attention_mask[i] = 1;
    }
  }
  for (int b = 0; b < batch_size; ++b) {
    const int length = SequenceLength(b, seq_len);
    const int picks = std::min(predictions_per_seq, length - 1);
    std::vector<int32_t> candidates(length - 1);
    std::iota(candidates.begin(), candidates.end(), 1);
    for (int i = 0; i < picks; ++i) {
      std::swap(candidates[i], candidates[i + rng.Draw(length - 1 - i)]);
    }
    std::sort(candidates.begin(), candidates.begin() + picks);
    for (int i = 0; i < picks; ++i) {
      batch.masked_positions.push_back(b * seq_len + candidates[i]);
      batch.masked_labels.push_back(static_cast<int32_t>(kFirstOrdinaryId + rng.Draw(ordinary_ids)));
    }
    for (int i = picks; i < predictions_per_seq; ++i) {
      batch.masked_positions.push_back(0);
      batch.masked_labels.push_back(-1);
    }
  }
  batch.sentence_labels.resize(batch_size);
  for (int b = 0; b < batch_size; ++b) batch.sentence_labels[b] = b % 2;
  return batch;
}

int64_t PaddingTokens(const Batch& batch) {
  return std::count(batch.attention_mask.begin(), batch.attention_mask.end(), 0);
}

int64_t CountedPredictions(const Batch& batch) {
  return std::count_if(batch.masked_labels.begin(), batch.masked_labels.end(),
                       [](int32_t label) { return label >= 0; });
}

uint64_t BatchChecksum(const Batch& batch) {
  uint64_t hash = 0xCBF29CE484222325ull;
  for (const std::vector<int32_t>* field :
       {&batch.input_ids, &batch.token_type_ids, &batch.attention_mask, &batch.masked_positions,
        &batch.masked_labels, &batch.sentence_labels}) {
    for (int32_t value : *field) {
      const uint64_t bits = static_cast<uint64_t>(static_cast<int64_t>(value));
      for (int byte = 0; byte < 8; ++byte) {
        hash ^= (bits >> (8 * byte)) & 0xFF;
        hash *= 0x100000001B3ull;
      }
    }
  }
  return hash;
}

}  // namespace cloze
