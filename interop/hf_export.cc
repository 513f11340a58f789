#include "interop/hf_export.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "interop/hf_names.h"
#include "interop/hf_tokenizer.h"
#include "nlohmann/json.hpp"
#include "model/head.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"
#include "checkpoint/safetensors.h"

namespace cloze::interop {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The shortest decimal that reads back as `value` in float, as a double for JSON: 1e-12
// stays "1e-12" rather than float's 9.99999996e-13.
double ShortestDecimal(float value) {
  char text[32];
  for (int digits = 6; digits <= 9; ++digits) {
    std::snprintf(text, sizeof(text), "%.*g", digits, value);
    if (std::strtof(text, nullptr) == value) break;
  }
  return std::strtod(text, nullptr);
}

bool Classifies(const HeadSpec& head) {
  return head.kind == HeadKind::kSequenceClassification || head.kind == HeadKind::kTokenClassification;
}

absl::StatusOr<json> ConfigJson(const ModelConfig& c, const HeadSpec& head,
                                const std::vector<std::string>& label_names) {
  json config;
  config["architectures"] = {HfArchitecture(c, head)};
  config["model_type"] = c.model_type();
  config["vocab_size"] = c.vocab_size();
  config["hidden_size"] = c.hidden_size();
  config["num_hidden_layers"] = c.num_hidden_layers();
  config["num_attention_heads"] = c.num_attention_heads();
  config["intermediate_size"] = c.intermediate_size();
  config["hidden_act"] = c.hidden_act();
  config["hidden_dropout_prob"] = ShortestDecimal(c.hidden_dropout_prob());
  config["attention_probs_dropout_prob"] = ShortestDecimal(c.attention_probs_dropout_prob());
  config["max_position_embeddings"] = c.max_position_embeddings();
  config["type_vocab_size"] = c.type_vocab_size();
  config["layer_norm_eps"] = ShortestDecimal(c.layer_norm_eps());
  config["initializer_range"] = ShortestDecimal(c.initializer_range());
  config["pad_token_id"] = c.pad_token_id();
  config["tie_word_embeddings"] = true;
  if (IsAlbert(c)) {
    config["embedding_size"] = c.embedding_size();
    config["num_hidden_groups"] = c.num_hidden_groups();
    config["inner_group_num"] = c.inner_group_num();
    config["classifier_dropout_prob"] = ShortestDecimal(c.classifier_dropout_prob());
  } else {
    config["position_embedding_type"] = "absolute";
    // BertConfig's name; explicit, since HF would otherwise use hidden_dropout_prob.
    config["classifier_dropout"] = ShortestDecimal(c.classifier_dropout_prob());
  }
  if (!Classifies(head)) {
    if (!label_names.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("label names given for the ", HeadKindName(head.kind), " head, which has no labels"));
    }
    return config;
  }
  if (!label_names.empty() && static_cast<int>(label_names.size()) != head.num_labels) {
    return absl::InvalidArgumentError(
        absl::StrCat(label_names.size(), " label names for a head of num_labels ", head.num_labels));
  }
  json id2label = json::object(), label2id = json::object();
  for (int i = 0; i < head.num_labels; ++i) {
    const std::string name = label_names.empty() ? absl::StrCat("LABEL_", i) : label_names[i];
    if (label2id.contains(name)) return absl::InvalidArgumentError(absl::StrCat("label name \"", name, "\" repeats"));
    id2label[absl::StrCat(i)] = name;
    label2id[name] = i;
  }
  config["id2label"] = id2label;
  config["label2id"] = label2id;
  config["num_labels"] = head.num_labels;
  if (head.kind == HeadKind::kSequenceClassification) {
    config["problem_type"] = head.is_regression() ? "regression" : "single_label_classification";
  }
  return config;
}

absl::Status PrepareFolder(const std::string& folder) {
  std::error_code error;
  if (fs::exists(folder, error)) {
    if (!fs::is_directory(folder, error)) return absl::FailedPreconditionError(absl::StrCat(folder, ": not a folder"));
    if (!fs::is_empty(folder, error)) {
      return absl::FailedPreconditionError(absl::StrCat(folder, ": not empty; refusing to export into it"));
    }
    return absl::OkStatus();
  }
  fs::create_directories(folder, error);
  if (error) return absl::InternalError(absl::StrCat(folder, ": cannot create: ", error.message()));
  return absl::OkStatus();
}

}  // namespace

absl::Status ExportHuggingFace(const ModelConfig& config, const HeadSpec& head,
                               const std::vector<std::string>& label_names, std::span<const float> parameters,
                               const std::string& tokenizer, const std::string& folder) {
  if (absl::Status s = ValidateModelConfig(config); !s.ok()) return s;
  if (absl::StatusOr<std::unique_ptr<HeadDefinition>> definition =
          MakeHeadDefinition(head, config, BuildEncoderLayout(config));
      !definition.ok()) {
    return definition.status();
  }
  const ParameterLayout layout = BuildParameterLayout(config, head);
  if (static_cast<int64_t>(parameters.size()) != layout.total_size) {
    return absl::InvalidArgumentError(absl::StrCat(parameters.size(), " parameters; the ", HeadKindName(head.kind),
                                                   " model has ", layout.total_size));
  }
  absl::StatusOr<json> config_json = ConfigJson(config, head, label_names);
  if (!config_json.ok()) return config_json.status();
  if (!tokenizer.empty()) {
    if (absl::Status s = CheckTokenizerVocabulary(tokenizer, config, "the model config"); !s.ok()) return s;
  }
  if (absl::Status s = PrepareFolder(folder); !s.ok()) return s;

  std::ofstream out(folder + "/config.json", std::ios::binary);
  out << config_json->dump(2) << "\n";
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(folder, "/config.json: cannot write"));

  SafetensorsWriter weights;
  weights.SetMetadata("format", "pt");  // transformers refuses safetensors without it
  for (const NamedTensor& t : layout.tensors) {
    weights.AddFloat32(t.name, t.shape, parameters.subspan(t.offset, t.size));
  }
  if (absl::Status s = weights.WriteFile(folder + "/model.safetensors"); !s.ok()) return s;
  if (tokenizer.empty()) return absl::OkStatus();
  return WriteHfTokenizer(tokenizer, config, folder);
}

}  // namespace cloze::interop
