// Where each parameter tensor lives in the model's one flat float buffer.
//
// All parameters are one contiguous buffer (and gradients a second one of the same
// layout), so all-reduce, parameter-server sharding and checkpoints each deal with a
// single range of memory. Tensor names are Hugging Face's (AlbertForPreTraining /
// BertForPreTraining state-dict keys), so checkpoints convert by name.
//
// Query, key and value of a layer are adjacent (weights, then biases), so one matmul
// with a (3H, H) weight computes all three projections.
#ifndef CLOZE_TRAINER_PARAMETER_LAYOUT_H_
#define CLOZE_TRAINER_PARAMETER_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "proto/model_config.pb.h"
#include "trainer/head_spec.h"

namespace cloze {

// A tensor's place in the flat buffer. An absent tensor (BERT's embedding projection)
// has size 0.
struct TensorSlot {
  int64_t offset = 0;
  int64_t size = 0;
};

// One named tensor, for checkpoints, import/export and the optimizer.
struct NamedTensor {
  std::string name;
  std::vector<int64_t> shape;
  int64_t offset = 0;
  int64_t size = 0;
  // LAMB/AdamW weight decay applies (false for layer norms and biases, as in ALBERT).
  bool weight_decay = false;
};

// The parameters of one transformer layer (shared by every layer of its group).
struct LayerSlots {
  TensorSlot qkv_weight, qkv_bias;  // (3H, H), (3H)
  TensorSlot attention_output_weight, attention_output_bias;  // (H, H), (H)
  TensorSlot attention_norm_weight, attention_norm_bias;      // (H), (H)
  TensorSlot ffn_weight, ffn_bias;                            // (I, H), (I)
  TensorSlot ffn_output_weight, ffn_output_bias;              // (H, I), (H)
  TensorSlot ffn_norm_weight, ffn_norm_bias;                  // (H), (H)
};

struct ParameterLayout {
  TensorSlot word_embeddings;          // (V, E); also the MLM decoder's weight (tied)
  TensorSlot position_embeddings;      // (P, E)
  TensorSlot token_type_embeddings;    // (TV, E)
  TensorSlot embedding_norm_weight, embedding_norm_bias;            // (E)
  TensorSlot embedding_projection_weight, embedding_projection_bias;  // ALBERT: (H, E), (H)
  std::vector<LayerSlots> groups;      // num_hidden_groups entries
  TensorSlot pooler_weight, pooler_bias;  // (H, H), (H); absent (size 0) without a pooler
  // The head's tensors follow; the head keeps their slots (trainer/head.h).

  std::vector<NamedTensor> tensors;  // every tensor, in buffer order
  int64_t total_size = 0;            // floats in the buffer
};

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

// The whole layout: the encoder's tensors, then those of the head `head` (trainer/heads.cc).
ParameterLayout BuildParameterLayout(const ModelConfig& config, const HeadSpec& head = {});

// The Hugging Face name prefix of the encoder: "albert" or "bert".
const char* EncoderPrefix(const ModelConfig& config);

// Group whose parameters layer `layer` uses: layers are split evenly over groups.
int GroupOfLayer(const ModelConfig& config, int layer);

}  // namespace cloze

#endif  // CLOZE_TRAINER_PARAMETER_LAYOUT_H_
