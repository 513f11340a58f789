// A synthetic pretraining batch with the shape of ALBERT's data, for benchmarks and
// `cloze step`.
//
// bench/torch_step.py builds the identical batch (same generator, same draw order), and
// both print BatchChecksum, so a run can show that cloze and PyTorch timed the same
// inputs. Changing the recipe here means changing make_batch() there too.
//
// Recipe, for B sequences of T tokens and P = predictions_per_seq:
//   - generator: SplitMix64 seeded with `seed`; "draw(k)" is next() % k.
//   - sequence b holds length_b = max(2, T - (b % 4)·(T / 32)) tokens, then padding:
//     at T = 128 the lengths cycle 128, 124, 120, 116 (a few padded tokens, as in
//     ALBERT's data where most sequences are full).
//   - input_ids: drawn first, row-major over the whole (B, T) grid: 2 ([CLS]) at t = 0,
//     5 + draw(V - 5) at 0 < t < length_b, 0 at padding. The draw happens only for
//     0 < t < length_b.
//   - token_type_ids: 1 for length_b / 2 <= t < length_b, else 0.
//   - attention_mask: 1 for t < length_b, else 0.
//   - then, sequence by sequence: p_b = min(P, length_b - 1) distinct positions from
//     [1, length_b) by a partial Fisher–Yates shuffle (swap slot i with slot
//     i + draw(length_b - 1 - i)), sorted ascending; then one label 5 + draw(V - 5) per
//     position, in ascending order. Unused slots (p_b < P) are position 0 with label -1,
//     which cloze ignores. masked_positions are flat indices b·T + t.
//   - sentence_labels: b % 2.
#ifndef CLOZE_MODEL_SYNTHETIC_BATCH_H_
#define CLOZE_MODEL_SYNTHETIC_BATCH_H_

#include <cstdint>

#include "proto/model_config.pb.h"
#include "model/batch.h"

namespace cloze {

// The batch described above, with B·P masked slots. Requires batch_size > 0,
// seq_len >= 2, predictions_per_seq >= 0 and config.vocab_size() > 5.
Batch MakeSyntheticBatch(const ModelConfig& config, int batch_size, int seq_len, int predictions_per_seq,
                         uint64_t seed);

// Positions with attention_mask == 0.
int64_t PaddingTokens(const Batch& batch);

// Masked slots with a label >= 0 (the ones either implementation computes a loss for).
int64_t CountedPredictions(const Batch& batch);

// 64-bit FNV-1a over every integer of the batch (input_ids, token_type_ids,
// attention_mask, masked_positions, masked_labels, sentence_labels, in that order), each
// as 8 little-endian bytes; torch_step.py computes the same number.
uint64_t BatchChecksum(const Batch& batch);

}  // namespace cloze

#endif  // CLOZE_MODEL_SYNTHETIC_BATCH_H_
