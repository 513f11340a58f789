// Philox4x32-10, a counter-based random number generator (Salmon et al., SC'11).
//
// Dropout masks and weight initialisation draw from it. A random number is a pure
// function of (key, counter), so the CPU and CUDA paths produce identical masks, any
// element can be regenerated in backward without storing a mask, and results do not
// depend on how work is split over threads or GPU blocks.
#ifndef CLOZE_KERNELS_PHILOX_H_
#define CLOZE_KERNELS_PHILOX_H_

#include <cstdint>

#if defined(__CUDACC__)
#define CLOZE_HOST_DEVICE __host__ __device__ __forceinline__
#else
#define CLOZE_HOST_DEVICE inline
#endif

namespace cloze {

struct Philox4x32 {
  uint32_t v[4];
};

CLOZE_HOST_DEVICE void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t product = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(product >> 32);
  *lo = static_cast<uint32_t>(product);
}

// Ten rounds of Philox4x32 on `counter` under the 64-bit `key`.
CLOZE_HOST_DEVICE Philox4x32 philox4x32_10(Philox4x32 counter, uint64_t key) {
  uint32_t k0 = static_cast<uint32_t>(key);
  uint32_t k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, counter.v[0], &hi0, &lo0);
    philox_mulhilo(0xCD9E8D57u, counter.v[2], &hi1, &lo1);
    counter = {{hi1 ^ counter.v[1] ^ k0, lo1, hi0 ^ counter.v[3] ^ k1, lo0}};
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return counter;
}

// The `index`-th 32-bit random word of the sequence named (seed, stream).
// Words 4i..4i+3 come from one Philox block, so callers walking consecutive
// indices may use philox_block directly.
CLOZE_HOST_DEVICE Philox4x32 philox_block(uint64_t seed, uint64_t stream, uint64_t block) {
  Philox4x32 counter = {{static_cast<uint32_t>(block), static_cast<uint32_t>(block >> 32),
                         static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)}};
  return philox4x32_10(counter, seed);
}

CLOZE_HOST_DEVICE uint32_t philox_word(uint64_t seed, uint64_t stream, uint64_t index) {
  return philox_block(seed, stream, index >> 2).v[index & 3];
}

// A uniform float in [0, 1) from the top 24 bits of a random word (exactly representable).
CLOZE_HOST_DEVICE float uniform_from_word(uint32_t word) {
  return static_cast<float>(word >> 8) * (1.0f / 16777216.0f);
}

}  // namespace cloze

#endif  // CLOZE_KERNELS_PHILOX_H_
