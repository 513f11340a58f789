// The deterministic global shuffle of a dataset's example indices, one order per epoch.
#ifndef CLOZE_DATA_DATASET_SHUFFLE_H_
#define CLOZE_DATA_DATASET_SHUFFLE_H_

#include <cstdint>

namespace cloze::data {

// A pseudo-random permutation of [0, n) chosen by (seed, epoch), evaluated one position at
// a time in O(1) memory: a balanced Feistel network of kRounds rounds over the smallest
// even-bit power-of-two domain holding n (at most 4n), with cycle walking (re-encrypt until
// the value falls below n, on average fewer than 4 times). A Feistel network is a bijection
// on its domain whatever its round function, and cycle walking restricts a bijection to a
// bijection on [0, n), so this is always a permutation; no O(n) table is ever built, which
// matters for datasets of 10^8 and more examples.
//
// Pure 64-bit integer arithmetic, so the same (n, seed, epoch) gives the same order on any
// machine and compiler. Changing the arithmetic changes every order: tests pin it.
// Thread-safe (immutable).
class ShufflePermutation {
 public:
  static constexpr int kRounds = 8;

  // Requires n >= 1 and epoch >= 0.
  ShufflePermutation(int64_t n, uint64_t seed, int64_t epoch);

  int64_t size() const { return n_; }

  // The index at `position` of the order. Requires 0 <= position < size().
  int64_t operator()(int64_t position) const;

 private:
  uint64_t Encrypt(uint64_t x) const;

  int64_t n_;
  int half_bits_;
  uint64_t half_mask_;
  uint64_t round_keys_[kRounds];
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_DATASET_SHUFFLE_H_
