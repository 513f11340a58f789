#include "data/dataset_shuffle.h"

#include <cstdio>
#include <cstdlib>

namespace cloze::data {
namespace {

// SplitMix64's output function (Steele, Lea & Flood 2014): a fast 64-bit bijective mixer.
uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;

int BitWidth(uint64_t v) {
  int bits = 0;
  while (v != 0) {
    ++bits;
    v >>= 1;
  }
  return bits;
}

}  // namespace

ShufflePermutation::ShufflePermutation(int64_t n, uint64_t seed, int64_t epoch) : n_(n) {
  if (n < 1 || epoch < 0) {
    std::fprintf(stderr, "ShufflePermutation: n = %lld, epoch = %lld (need n >= 1, epoch >= 0)\n",
                 static_cast<long long>(n), static_cast<long long>(epoch));
    std::abort();
  }
  const int bits = BitWidth(static_cast<uint64_t>(n - 1));
  half_bits_ = bits <= 2 ? 1 : (bits + 1) / 2;
  half_mask_ = (1ull << half_bits_) - 1;  // half_bits_ <= 32
  // Round keys are a SplitMix64 stream started from (seed, epoch), both mixed so that nearby
  // seeds or epochs give unrelated keys.
  uint64_t state = Mix64(seed ^ kGolden) ^ Mix64(static_cast<uint64_t>(epoch) + 0x632BE59BD9B4E019ull);
  for (uint64_t& key : round_keys_) {
    state += kGolden;
    key = Mix64(state);
  }
}

uint64_t ShufflePermutation::Encrypt(uint64_t x) const {
  uint64_t left = x >> half_bits_;
  uint64_t right = x & half_mask_;
  for (uint64_t key : round_keys_) {
    const uint64_t next = left ^ (Mix64(right ^ key) & half_mask_);
    left = right;
    right = next;
  }
  return (left << half_bits_) | right;
}

int64_t ShufflePermutation::operator()(int64_t position) const {
  if (position < 0 || position >= n_) {
    std::fprintf(stderr, "ShufflePermutation: position %lld is outside [0, %lld)\n",
                 static_cast<long long>(position), static_cast<long long>(n_));
    std::abort();
  }
  uint64_t x = static_cast<uint64_t>(position);
  do {
    x = Encrypt(x);
  } while (x >= static_cast<uint64_t>(n_));
  return static_cast<int64_t>(x);
}

}  // namespace cloze::data
