// How Hugging Face names what cloze's parameter layout holds: the architecture class of a
// head, and the spellings of tensor names that differ from the layout's (bare AlbertModel /
// BertModel names, old BERT LayerNorm gamma/beta, the tied MLM decoder).
//
// cloze's ParameterLayout already uses HF's state-dict names of the For* models
// (trainer/parameter_layout.h), so these are the only translations import/export need.
#ifndef CLOZE_INTEROP_HF_NAMES_H_
#define CLOZE_INTEROP_HF_NAMES_H_

#include <string>
#include <string_view>

#include "proto/model_config.pb.h"
#include "model/head_spec.h"

namespace cloze::interop {

// The transformers class HF saves a model with `head` as, e.g. "AlbertForPreTraining",
// "BertForSequenceClassification", "AlbertForTokenClassification",
// "BertForQuestionAnswering" (config.json "architectures"). `config` must be valid.
std::string HfArchitecture(const ModelConfig& config, const HeadSpec& head);

// A tensor name as found in an HF file, spelled as the layout spells it:
//   - "LayerNorm.gamma" / "LayerNorm.beta" (BERT's TensorFlow-era checkpoints) become
//     "LayerNorm.weight" / "LayerNorm.bias";
//   - the bare names of AlbertModel / BertModel ("embeddings.", "encoder.", "pooler.") get
//     the encoder prefix ("albert." / "bert.").
// Other names are returned unchanged.
std::string CanonicalTensorName(std::string_view file_name, const ModelConfig& config);

// The MLM head's tensors that HF ties to others (cloze stores each only once):
//   decoder weight ≡ word embeddings; decoder bias ≡ the output bias.
struct TiedMlmNames {
  std::string decoder_weight;   // "predictions.decoder.weight" / "cls.predictions.decoder.weight"
  std::string decoder_bias;     // "predictions.decoder.bias" / "cls.predictions.decoder.bias"
  std::string output_bias;      // "predictions.bias" / "cls.predictions.bias" (in the layout)
  std::string word_embeddings;  // "albert.embeddings.word_embeddings.weight" / "bert...."
};
TiedMlmNames TiedMlm(const ModelConfig& config);

}  // namespace cloze::interop

#endif  // CLOZE_INTEROP_HF_NAMES_H_
