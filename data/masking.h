// Masked-LM targets the ALBERT way (create_masked_lm_predictions in google-research/
// albert's create_pretraining_data.py).
//
// Candidates are single pieces, or whole words (all pieces from a word start to the next)
// when whole_word_mask is set; [CLS] and [SEP] are never candidates. The number of
// predictions is min(max_predictions_per_seq, max(1, round(length · masked_lm_prob))).
// Candidate n-grams (n consecutive candidates, n ≤ max_ngram) are visited in random
// order; each draws n with p(n) ∝ 1/n (shortened when it would exceed the budget) and is
// skipped if it overlaps an earlier choice. Every chosen position becomes [MASK] with
// p = 0.8, stays with p = 0.1, or becomes a random token with p = 0.1.
//
// Differences from ALBERT's script, on purpose: every draw comes from the caller's util::Rng
// (ALBERT mixes in numpy's global generator, so its output is not reproducible), and a
// random replacement token is drawn from the non-special ids (ALBERT may draw [CLS],
// <pad>, …).
#ifndef CLOZE_DATA_MASKING_H_
#define CLOZE_DATA_MASKING_H_

#include <cstdint>

#include "util/random.h"
#include "data/vocab_info.h"
#include "proto/data.pb.h"

namespace cloze::data {

struct MaskingOptions {
  float masked_lm_prob = 0.15f;
  int max_predictions_per_seq = 20;
  int max_ngram = 3;
  bool whole_word_mask = true;
};

// Masks example->input_ids in place and fills masked_positions (ascending) and
// masked_labels (the original ids). Any earlier masking fields are replaced.
// Returns the n-gram length (in candidates) of each chosen span, for statistics.
std::vector<int> MaskExample(Example* example, const VocabInfo& vocab, const MaskingOptions& options, util::Rng& rng);

}  // namespace cloze::data

#endif  // CLOZE_DATA_MASKING_H_
