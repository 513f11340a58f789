#include "interop/hf_names.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"

namespace cloze::interop {

std::string HfArchitecture(const ModelConfig& config, const HeadSpec& head) {
  const char* family = IsAlbert(config) ? "Albert" : "Bert";
  switch (head.kind) {
    case HeadKind::kPretraining: return absl::StrCat(family, "ForPreTraining");
    case HeadKind::kSequenceClassification: return absl::StrCat(family, "ForSequenceClassification");
    case HeadKind::kTokenClassification: return absl::StrCat(family, "ForTokenClassification");
    case HeadKind::kSpanExtraction: return absl::StrCat(family, "ForQuestionAnswering");
  }
  return absl::StrCat(family, "Model");
}

std::string CanonicalTensorName(std::string_view file_name, const ModelConfig& config) {
  std::string name(file_name);
  if (absl::StrContains(name, "LayerNorm.")) {
    if (absl::EndsWith(name, ".gamma")) name = name.substr(0, name.size() - 5) + "weight";
    if (absl::EndsWith(name, ".beta")) name = name.substr(0, name.size() - 4) + "bias";
  }
  for (const char* bare : {"embeddings.", "encoder.", "pooler."}) {
    if (absl::StartsWith(name, bare)) return absl::StrCat(EncoderPrefix(config), ".", name);
  }
  return name;
}

TiedMlmNames TiedMlm(const ModelConfig& config) {
  const std::string head = IsAlbert(config) ? "predictions" : "cls.predictions";
  return {head + ".decoder.weight", head + ".decoder.bias", head + ".bias",
          absl::StrCat(EncoderPrefix(config), ".embeddings.word_embeddings.weight")};
}

}  // namespace cloze::interop
