// Where each parameter tensor of a ModelConfig lives in the model's one flat float buffer
// (the types are in kernels/parameter_layout.h, below the optimizers that take them).
//
// All parameters are one contiguous buffer (and gradients a second one of the same
// layout), so all-reduce, parameter-server sharding and checkpoints each deal with a
// single range of memory. Tensor names are Hugging Face's state-dict keys (AlbertModel /
// BertModel for the encoder, then the head's: AlbertForPreTraining, ...ForSequenceClassification,
// ...), so checkpoints convert by name. The encoder's tensors come first, then the head's
// (model/head.h), so every head shares the encoder's offsets.
//
// Query, key and value of a layer are adjacent (weights, then biases), so one matmul
// with a (3H, H) weight computes all three projections.
#ifndef CLOZE_MODEL_PARAMETER_LAYOUT_H_
#define CLOZE_MODEL_PARAMETER_LAYOUT_H_

#include "kernels/parameter_layout.h"
#include "model/head_spec.h"
#include "proto/model_config.pb.h"

namespace cloze {

// Appends tensors to a layout in order, assigning offsets; how the encoder and each head
// declare their parameters.
class LayoutBuilder {
 public:
  explicit LayoutBuilder(ParameterLayout& layout) : layout_(layout) {}

  TensorSlot Add(std::string name, std::vector<int64_t> shape, bool weight_decay);
  // A weight matrix (out, in), decayed, and its bias (out), not decayed.
  void AddLinear(const std::string& prefix, int64_t out, int64_t in, TensorSlot& weight, TensorSlot& bias);
  // A layer norm's scale and shift (width), not decayed.
  void AddNorm(const std::string& prefix, int64_t width, TensorSlot& weight, TensorSlot& bias);
  // Query, key and value as three named tensors, laid out as one (3H, H) matrix and one
  // (3H) bias.
  void AddQkv(const std::string& prefix, int64_t hidden, LayerSlots& slots);

 private:
  ParameterLayout& layout_;
};

// The encoder's tensors (embeddings, layers, and the pooler when `with_pooler`) for a
// valid config (see ValidateModelConfig); heads append theirs with a LayoutBuilder. Heads
// that do not read the pooled [CLS] (tagging, spans) have no pooler, as Hugging Face builds
// them (add_pooling_layer=False).
ParameterLayout BuildEncoderLayout(const ModelConfig& config, bool with_pooler = true);

// The whole layout: the encoder's tensors, then those of the head `head` (model/heads.cc),
// whose spec must be valid (MakeHeadDefinition accepts it).
ParameterLayout BuildParameterLayout(const ModelConfig& config, const HeadSpec& head = {});

// The Hugging Face name prefix of the encoder: "albert" or "bert".
const char* EncoderPrefix(const ModelConfig& config);

// Group whose parameters layer `layer` uses: layers are split evenly over groups.
int GroupOfLayer(const ModelConfig& config, int layer);

}  // namespace cloze

#endif  // CLOZE_MODEL_PARAMETER_LAYOUT_H_
