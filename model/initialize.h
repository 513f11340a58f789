// Initial parameter values for a fresh run.
#ifndef CLOZE_MODEL_INITIALIZE_H_
#define CLOZE_MODEL_INITIALIZE_H_

#include <cstdint>
#include <span>

#include "proto/model_config.pb.h"
#include "model/parameter_layout.h"

namespace cloze {

// Writes every tensor of `layout` into `parameters` (layout.total_size floats):
// matrices and embeddings ~ normal(0, initializer_range) truncated at ±2σ (BERT's
// TensorFlow initializer), layer-norm weights 1, biases 0. Values come from Philox keyed
// by (seed, tensor index, element), so they do not depend on threads or hardware.
void InitializeParameterBuffer(const ParameterLayout& layout, const ModelConfig& config, uint64_t seed,
                               std::span<float> parameters);

}  // namespace cloze

#endif  // CLOZE_MODEL_INITIALIZE_H_
