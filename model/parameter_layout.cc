#include "model/parameter_layout.h"

#include "absl/strings/str_cat.h"
#include "model/model_config.h"

namespace cloze {
TensorSlot LayoutBuilder::Add(std::string name, std::vector<int64_t> shape, bool weight_decay) {
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  const TensorSlot slot{layout_.total_size, size};
  layout_.tensors.push_back({std::move(name), std::move(shape), slot.offset, size, weight_decay});
  layout_.total_size += size;
  return slot;
}

void LayoutBuilder::AddLinear(const std::string& prefix, int64_t out, int64_t in, TensorSlot& weight,
                              TensorSlot& bias) {
  weight = Add(prefix + ".weight", {out, in}, true);
  bias = Add(prefix + ".bias", {out}, false);
}

void LayoutBuilder::AddNorm(const std::string& prefix, int64_t width, TensorSlot& weight, TensorSlot& bias) {
  weight = Add(prefix + ".weight", {width}, false);
  bias = Add(prefix + ".bias", {width}, false);
}

void LayoutBuilder::AddQkv(const std::string& prefix, int64_t hidden, LayerSlots& slots) {
  slots.qkv_weight = Add(prefix + ".query.weight", {hidden, hidden}, true);
  Add(prefix + ".key.weight", {hidden, hidden}, true);
  Add(prefix + ".value.weight", {hidden, hidden}, true);
  slots.qkv_weight.size *= 3;
  slots.qkv_bias = Add(prefix + ".query.bias", {hidden}, false);
  Add(prefix + ".key.bias", {hidden}, false);
  Add(prefix + ".value.bias", {hidden}, false);
  slots.qkv_bias.size *= 3;
}

namespace {

// Hugging Face names differ between the two architectures; the structure does not.
struct Names {
  std::string embeddings;
  std::string layer_prefix;  // + group index
  std::string attention_self, attention_output, attention_norm;
  std::string ffn, ffn_output, ffn_norm;
  std::string pooler;
};

Names AlbertNames() {
  return {"albert.embeddings", "albert.encoder.albert_layer_groups.",
          ".albert_layers.0.attention", ".albert_layers.0.attention.dense",
          ".albert_layers.0.attention.LayerNorm", ".albert_layers.0.ffn",
          ".albert_layers.0.ffn_output", ".albert_layers.0.full_layer_layer_norm",
          "albert.pooler"};
}

Names BertNames() {
  return {"bert.embeddings", "bert.encoder.layer.", ".attention.self", ".attention.output.dense",
          ".attention.output.LayerNorm", ".intermediate.dense", ".output.dense",
          ".output.LayerNorm", "bert.pooler.dense"};
}

}  // namespace

int GroupOfLayer(const ModelConfig& config, int layer) {
  return layer / (config.num_hidden_layers() / config.num_hidden_groups());
}

const char* EncoderPrefix(const ModelConfig& config) { return IsAlbert(config) ? "albert" : "bert"; }

ParameterLayout BuildEncoderLayout(const ModelConfig& config, bool with_pooler) {
  const int64_t v = config.vocab_size(), e = config.embedding_size(), h = config.hidden_size();
  const int64_t inner = config.intermediate_size();
  const bool albert = IsAlbert(config);
  const Names names = albert ? AlbertNames() : BertNames();

  ParameterLayout layout;
  LayoutBuilder b(layout);
  // Embedding tables are decayed as in ALBERT's optimizer (only LayerNorm and bias are excluded).
  layout.word_embeddings = b.Add(names.embeddings + ".word_embeddings.weight", {v, e}, true);
  layout.position_embeddings = b.Add(names.embeddings + ".position_embeddings.weight",
                                     {config.max_position_embeddings(), e}, true);
  layout.token_type_embeddings = b.Add(names.embeddings + ".token_type_embeddings.weight",
                                       {config.type_vocab_size(), e}, true);
  b.AddNorm(names.embeddings + ".LayerNorm", e, layout.embedding_norm_weight,
            layout.embedding_norm_bias);
  if (albert) {
    b.AddLinear("albert.encoder.embedding_hidden_mapping_in", h, e,
                layout.embedding_projection_weight, layout.embedding_projection_bias);
  }
  layout.groups.resize(config.num_hidden_groups());
  for (int g = 0; g < config.num_hidden_groups(); ++g) {
    const std::string prefix = absl::StrCat(names.layer_prefix, g);
    LayerSlots& s = layout.groups[g];
    b.AddQkv(prefix + names.attention_self, h, s);
    b.AddLinear(prefix + names.attention_output, h, h, s.attention_output_weight,
                s.attention_output_bias);
    b.AddNorm(prefix + names.attention_norm, h, s.attention_norm_weight, s.attention_norm_bias);
    b.AddLinear(prefix + names.ffn, inner, h, s.ffn_weight, s.ffn_bias);
    b.AddLinear(prefix + names.ffn_output, h, inner, s.ffn_output_weight, s.ffn_output_bias);
    b.AddNorm(prefix + names.ffn_norm, h, s.ffn_norm_weight, s.ffn_norm_bias);
  }
  if (with_pooler) b.AddLinear(names.pooler, h, h, layout.pooler_weight, layout.pooler_bias);
  return layout;
}

}  // namespace cloze
