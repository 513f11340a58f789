#include "model/model_config.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "util/text_proto.h"

namespace cloze {
namespace {

absl::Status FieldError(const std::string& field, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("ModelConfig.", field, ": ", message));
}

absl::Status RequirePositive(const std::string& field, int64_t value) {
  if (value > 0) return absl::OkStatus();
  return FieldError(field, absl::StrCat("must be positive, got ", value));
}

absl::Status RequireProbability(const std::string& field, float value) {
  if (value >= 0.0f && value < 1.0f) return absl::OkStatus();
  return FieldError(field, absl::StrCat("must be in [0, 1), got ", value));
}

absl::StatusOr<ModelConfig> Finish(ModelConfig config, const std::string& source) {
  NormalizeModelConfig(config);
  if (absl::Status status = ValidateModelConfig(config); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", status.message()));
  }
  return config;
}

}  // namespace

bool IsAlbert(const ModelConfig& config) { return config.model_type() == "albert"; }

void NormalizeModelConfig(ModelConfig& config) {
  if (config.model_type() == "bert") {
    if (config.embedding_size() == 0) config.set_embedding_size(config.hidden_size());
    if (config.num_hidden_groups() == 0) config.set_num_hidden_groups(config.num_hidden_layers());
  }
  if (config.inner_group_num() == 0) config.set_inner_group_num(1);
}

absl::Status ValidateModelConfig(const ModelConfig& c) {
  if (c.model_type() != "albert" && c.model_type() != "bert") {
    return FieldError("model_type", absl::StrCat("must be \"albert\" or \"bert\", got \"",
                                                 c.model_type(), "\""));
  }
  for (const auto& [field, value] : std::initializer_list<std::pair<const char*, int64_t>>{
           {"vocab_size", c.vocab_size()},
           {"embedding_size", c.embedding_size()},
           {"hidden_size", c.hidden_size()},
           {"num_hidden_layers", c.num_hidden_layers()},
           {"num_attention_heads", c.num_attention_heads()},
           {"intermediate_size", c.intermediate_size()},
           {"num_hidden_groups", c.num_hidden_groups()},
           {"max_position_embeddings", c.max_position_embeddings()},
           {"type_vocab_size", c.type_vocab_size()}}) {
    if (absl::Status s = RequirePositive(field, value); !s.ok()) return s;
  }
  if (c.hidden_size() % c.num_attention_heads() != 0) {
    return FieldError("hidden_size", absl::StrFormat("%d is not divisible by num_attention_heads (%d)",
                                                     c.hidden_size(), c.num_attention_heads()));
  }
  if (c.num_hidden_layers() % c.num_hidden_groups() != 0) {
    return FieldError("num_hidden_groups",
                      absl::StrFormat("%d does not divide num_hidden_layers (%d)",
                                      c.num_hidden_groups(), c.num_hidden_layers()));
  }
  if (c.inner_group_num() != 1) {
    return FieldError("inner_group_num",
                      absl::StrCat("only 1 is supported (as in every released ALBERT), got ",
                                   c.inner_group_num()));
  }
  if (c.model_type() == "bert") {
    if (c.embedding_size() != c.hidden_size()) {
      return FieldError("embedding_size",
                        absl::StrFormat("BERT has no factorized embedding: must equal hidden_size "
                                        "(%d), got %d",
                                        c.hidden_size(), c.embedding_size()));
    }
    if (c.num_hidden_groups() != c.num_hidden_layers()) {
      return FieldError("num_hidden_groups",
                        absl::StrFormat("BERT shares no layers: must equal num_hidden_layers (%d), "
                                        "got %d",
                                        c.num_hidden_layers(), c.num_hidden_groups()));
    }
  }
  const std::string& act = c.hidden_act();
  if (act != "gelu" && act != "gelu_new" && act != "gelu_pytorch_tanh" && act != "relu") {
    return FieldError("hidden_act", absl::StrCat("unknown activation \"", act,
                                                 "\" (known: gelu, gelu_new, gelu_pytorch_tanh, relu)"));
  }
  for (const auto& [field, value] : std::initializer_list<std::pair<const char*, float>>{
           {"hidden_dropout_prob", c.hidden_dropout_prob()},
           {"attention_probs_dropout_prob", c.attention_probs_dropout_prob()},
           {"classifier_dropout_prob", c.classifier_dropout_prob()}}) {
    if (absl::Status s = RequireProbability(field, value); !s.ok()) return s;
  }
  if (!(c.layer_norm_eps() > 0.0f)) {
    return FieldError("layer_norm_eps", absl::StrCat("must be positive, got ", c.layer_norm_eps()));
  }
  if (!(c.initializer_range() >= 0.0f)) {
    return FieldError("initializer_range",
                      absl::StrCat("must not be negative, got ", c.initializer_range()));
  }
  return absl::OkStatus();
}

cpu::Activation ActivationOf(const ModelConfig& config) {
  if (config.hidden_act() == "gelu") return cpu::Activation::kGeluErf;
  if (config.hidden_act() == "relu") return cpu::Activation::kRelu;
  return cpu::Activation::kGeluTanh;
}

absl::StatusOr<ModelConfig> ParseModelConfigText(const std::string& text, const std::string& source) {
  ModelConfig config;
  if (absl::Status s = util::MergeTextProto(text, source, &config); !s.ok()) return s;
  return Finish(std::move(config), source);
}

absl::StatusOr<ModelConfig> ParseModelConfigJson(const std::string& json, const std::string& source) {
  ModelConfig config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;  // config.json carries architectures, torch_dtype, ...
  const auto status = google::protobuf::util::JsonStringToMessage(json, &config, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", status.message().as_string()));
  }
  return Finish(std::move(config), source);
}

absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& path) {
  std::string contents;
  if (absl::Status s = util::ReadTextFile(path, &contents); !s.ok()) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot open model config"));
  }
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) return ParseModelConfigJson(contents, path);
  return ParseModelConfigText(contents, path);
}

}  // namespace cloze
