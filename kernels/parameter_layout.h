// The flat parameter buffer's table of tensors: where each parameter tensor lives in the
// model's one float buffer (and in the gradient and optimizer-moment buffers of the same
// layout), so all-reduce, parameter-server sharding, checkpoints and the optimizers each
// deal with a single range of memory.
//
// Plain types only, so that the optimizers of kernels/cpu and kernels/cuda can take a
// layout without depending on the model; model/parameter_layout.h builds the layout of a
// ModelConfig and a head. Tensor names are Hugging Face's state-dict keys (the encoder's,
// then the head's: AlbertForPreTraining, ...ForSequenceClassification, ...), so checkpoints
// convert by name.
#ifndef CLOZE_KERNELS_PARAMETER_LAYOUT_H_
#define CLOZE_KERNELS_PARAMETER_LAYOUT_H_

#include <cstdint>
#include <string>
#include <vector>

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
  // The head's tensors follow; the head keeps their slots (model/head.h).

  std::vector<NamedTensor> tensors;  // every tensor, in buffer order
  int64_t total_size = 0;            // floats in the buffer
};

}  // namespace cloze

#endif  // CLOZE_KERNELS_PARAMETER_LAYOUT_H_
