// Random numbers that are the same on every machine, compiler and thread count: the data
// pipeline's examples and the trainer's dropout keys depend on it.
//
// std:: distributions are implementation-defined (libstdc++ and libc++ differ), so they
// are not used. Rng is xoshiro256** seeded by SplitMix64 from a 64-bit key; callers
// derive one key per unit of work (seed, pass, block, document) with MixKey, which makes
// a unit's randomness independent of how units are spread over threads.
#ifndef CLOZE_UTIL_RANDOM_H_
#define CLOZE_UTIL_RANDOM_H_

#include <cstdint>
#include <utility>
#include <vector>

namespace cloze::util {

// SplitMix64's finaliser: a bijective 64-bit mix.
inline uint64_t Mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// A key for one unit of work, from a seed and the unit's coordinates.
inline uint64_t MixKey(uint64_t seed, uint64_t a, uint64_t b = 0, uint64_t c = 0) {
  uint64_t k = Mix64(seed + 0x9E3779B97F4A7C15ull);
  k = Mix64(k ^ (a + 0x632BE59BD9B4E019ull));
  k = Mix64(k ^ (b + 0x8CB92BA72F3D8DD7ull));
  return Mix64(k ^ (c + 0xD1B54A32D192ED03ull));
}

class Rng {
 public:
  explicit Rng(uint64_t key) {
    for (uint64_t& s : state_) {
      key += 0x9E3779B97F4A7C15ull;
      s = Mix64(key);
    }
  }

  uint64_t Next() {
    const uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1), 53 random bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [lo, hi] (inclusive, as Python's random.randint), unbiased.
  int64_t UniformInt(int64_t lo, int64_t hi) {
    const uint64_t range = static_cast<uint64_t>(hi - lo) + 1;
    if (range == 0) return static_cast<int64_t>(Next());  // the whole 64-bit range
    const uint64_t limit = UINT64_MAX - UINT64_MAX % range;  // reject the biased tail
    uint64_t x;
    do {
      x = Next();
    } while (x >= limit);
    return lo + static_cast<int64_t>(x % range);
  }

  // Fisher–Yates, as Python's random.shuffle.
  template <typename T>
  void Shuffle(std::vector<T>& v) {
    for (int64_t i = static_cast<int64_t>(v.size()) - 1; i > 0; --i) {
      std::swap(v[i], v[UniformInt(0, i)]);
    }
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state_[4];
};

}  // namespace cloze::util

#endif  // CLOZE_UTIL_RANDOM_H_
