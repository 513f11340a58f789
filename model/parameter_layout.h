// Where each parameter tensor of a ModelConfig lives in the model's one flat float buffer
// (the types are in kernels/parameter_layout.h, below the optimizers that take them).
//
// All parameters are one contiguous buffer (and gradients a second one of the same
// layout), so all-reduce, parameter-server sharding and checkpoints each deal with a
// single range of memory. Tensor names are Hugging Face's (AlbertForPreTraining /
// BertForPreTraining state-dict keys), so checkpoints convert by name.
//
// Query, key and value of a layer are adjacent (weights, then biases), so one matmul
// with a (3H, H) weight computes all three projections.
#ifndef CLOZE_MODEL_PARAMETER_LAYOUT_H_
#define CLOZE_MODEL_PARAMETER_LAYOUT_H_

#include "kernels/parameter_layout.h"
#include "proto/model_config.pb.h"

namespace cloze {

// The layout for a valid config (see ValidateModelConfig).
ParameterLayout BuildParameterLayout(const ModelConfig& config);

// Group whose parameters layer `layer` uses: layers are split evenly over groups.
int GroupOfLayer(const ModelConfig& config, int layer);

}  // namespace cloze

#endif  // CLOZE_MODEL_PARAMETER_LAYOUT_H_
