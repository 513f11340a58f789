#include "model/initialize.h"

#include <cmath>

#include "absl/strings/match.h"
#include "kernels/philox.h"

namespace cloze {
namespace {

// A standard normal draw truncated to [-2, 2]: Box–Muller on two Philox words, redrawn
// from a fresh counter (attempt) until inside the bounds (about 5% of draws).
float TruncatedNormal(uint64_t seed, uint64_t tensor, uint64_t element) {
  for (uint64_t attempt = 0;; ++attempt) {
    const Philox4x32 words = philox_block(seed, tensor | (attempt << 32), element);
    // u1 in (0, 1] so the log is finite.
    const double u1 = (static_cast<double>(words.v[0]) + 1.0) / 4294967296.0;
    const double u2 = static_cast<double>(words.v[1]) / 4294967296.0;
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    if (std::fabs(z) <= 2.0) return static_cast<float>(z);
  }
}

}  // namespace

void InitializeParameterBuffer(const ParameterLayout& layout, const ModelConfig& config, uint64_t seed,
                               std::span<float> parameters) {
  const float stddev = config.initializer_range();
  for (size_t index = 0; index < layout.tensors.size(); ++index) {
    const NamedTensor& tensor = layout.tensors[index];
    float* values = parameters.data() + tensor.offset;
    const bool norm = absl::StrContains(tensor.name, "LayerNorm") || absl::StrContains(tensor.name, "layer_norm");
    const bool is_bias = absl::EndsWith(tensor.name, "bias");
    if (is_bias) {
      for (int64_t i = 0; i < tensor.size; ++i) values[i] = 0.0f;
    } else if (norm) {
      for (int64_t i = 0; i < tensor.size; ++i) values[i] = 1.0f;
    } else {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < tensor.size; ++i) values[i] = stddev * TruncatedNormal(seed, index, i);
    }
  }
}

}  // namespace cloze
