#include "data/masking.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace cloze::data {

std::vector<int> MaskExample(Example* example, const VocabInfo& vocab, const MaskingOptions& options, util::Rng& rng) {
  const auto& tokens = example->input_ids();
  const int length = tokens.size();
  example->clear_masked_positions();
  example->clear_masked_labels();
  std::vector<int> span_lengths;

  // Candidates: lists of positions that are masked together.
  std::vector<std::vector<int>> candidates;
  for (int i = 0; i < length; ++i) {
    const int32_t id = tokens[i];
    if (id == vocab.cls_id || id == vocab.sep_id) continue;
    const bool starts_word = id < 0 || id >= static_cast<int32_t>(vocab.word_start.size()) || vocab.word_start[id];
    if (options.whole_word_mask && !candidates.empty() && !starts_word) {
      candidates.back().push_back(i);
    } else {
      candidates.push_back({i});
    }
  }
  if (options.masked_lm_prob <= 0.0f || candidates.empty()) return span_lengths;
  const int budget = std::min(options.max_predictions_per_seq,
                              std::max(1, static_cast<int>(std::lround(length * options.masked_lm_prob))));

  // p(n) ∝ 1/n for n = 1..max_ngram.
  std::vector<double> weights;
  for (int n = 1; n <= options.max_ngram; ++n) weights.push_back(1.0 / n);

  std::vector<int> starts(candidates.size());
  for (size_t i = 0; i < starts.size(); ++i) starts[i] = static_cast<int>(i);
  rng.Shuffle(starts);

  std::vector<uint8_t> covered(length, 0);
  std::vector<int> chosen;  // positions, in the order chosen
  for (const int start : starts) {
    if (static_cast<int>(chosen.size()) >= budget) break;
    // n-grams starting here that fit in the candidate list.
    const int max_n = std::min<int>(options.max_ngram, static_cast<int>(candidates.size()) - start);
    double total = 0;
    for (int n = 1; n <= max_n; ++n) total += weights[n - 1];
    double draw = rng.Uniform() * total;
    int n = 1;
    while (n < max_n && draw >= weights[n - 1]) draw -= weights[n++ - 1];
    auto span_size = [&](int k) {
      int size = 0;
      for (int c = start; c < start + k; ++c) size += static_cast<int>(candidates[c].size());
      return size;
    };
    // Shorter n-grams while this one would exceed the budget (ALBERT's retry loop).
    while (n > 1 && static_cast<int>(chosen.size()) + span_size(n) > budget) --n;
    if (static_cast<int>(chosen.size()) + span_size(n) > budget) continue;
    bool overlaps = false;
    for (int c = start; c < start + n && !overlaps; ++c) {
      for (int pos : candidates[c]) overlaps |= covered[pos] != 0;
    }
    if (overlaps) continue;
    span_lengths.push_back(n);
    for (int c = start; c < start + n; ++c) {
      for (int pos : candidates[c]) {
        covered[pos] = 1;
        chosen.push_back(pos);
      }
    }
  }

  std::sort(chosen.begin(), chosen.end());
  std::vector<int32_t> original(tokens.begin(), tokens.end());
  auto* ids = example->mutable_input_ids();
  for (int pos : chosen) {
    // Draw order as ALBERT: one draw for [MASK] vs not, a second for keep vs random.
    int32_t replacement;
    if (rng.Uniform() < 0.8) {
      replacement = vocab.mask_id;
    } else if (rng.Uniform() < 0.5) {
      replacement = original[pos];
    } else {
      do {
        replacement = static_cast<int32_t>(rng.UniformInt(0, vocab.vocab_size - 1));
      } while (vocab.IsSpecial(replacement));
    }
    ids->Set(pos, replacement);
    example->add_masked_positions(pos);
    example->add_masked_labels(original[pos]);
  }
  return span_lengths;
}

}  // namespace cloze::data
