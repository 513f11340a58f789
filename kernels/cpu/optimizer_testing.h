// Inputs shared by the optimizer's bitwise tests (determinism across thread counts, pieces
// against the whole step): a layout whose tensors span several blocks, with single-element
// and empty tensors and sizes no thread count divides evenly, and values over many
// magnitudes, so that any change of arithmetic or summation order shows in the last bits.
#ifndef CLOZE_KERNELS_CPU_OPTIMIZER_TESTING_H_
#define CLOZE_KERNELS_CPU_OPTIMIZER_TESTING_H_

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/parameter_layout.h"

namespace cloze::testing {

inline ParameterLayout OptimizerTestLayout() {
  struct Spec {
    const char* name;
    int64_t size;
    bool decayed;
  };
  const Spec specs[] = {{"embeddings.weight", 100003, true}, {"LayerNorm.weight", 129, false},
                        {"absent.weight", 0, true},          {"dense.bias", 1, false},
                        {"dense.weight", 65536, true},       {"head.weight", 33000, true}};
  ParameterLayout layout;
  for (const Spec& s : specs) {
    layout.tensors.push_back({s.name, {s.size}, layout.total_size, s.size, s.decayed});
    layout.total_size += s.size;
  }
  return layout;
}

// n deterministic values of `seed`, scale × (u − 0.5) × e^(8u − 4) for u uniform in [0, 1).
inline std::vector<float> WideRangeValues(int64_t n, uint64_t seed, float scale) {
  std::vector<float> values(n);
  uint64_t state = seed * 0x9E3779B97F4A7C15ull + 1;
  for (int64_t i = 0; i < n; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    const double unit = static_cast<double>(state >> 11) * 0x1.0p-53;  // [0, 1)
    values[i] = static_cast<float>(scale * (unit - 0.5) * std::exp(8 * unit - 4));
  }
  return values;
}

}  // namespace cloze::testing

#endif  // CLOZE_KERNELS_CPU_OPTIMIZER_TESTING_H_
