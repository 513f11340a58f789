// Loading and validating ModelConfig (proto/model_config.proto).
//
// A config comes from a text proto (configs/*.textproto) or from a Hugging Face
// config.json. Either way it is normalised (BERT's implied fields filled in) and then
// validated; every error names the file and the offending field.
#ifndef CLOZE_MODEL_MODEL_CONFIG_H_
#define CLOZE_MODEL_MODEL_CONFIG_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "kernels/cpu/activations.h"
#include "proto/model_config.pb.h"

namespace cloze {

// Reads `path`: a Hugging Face config.json when it ends in ".json", a text-format
// ModelConfig otherwise. Returns the normalised, validated config, or an error that
// names `path` and, for bad values, the field.
absl::StatusOr<ModelConfig> LoadModelConfig(const std::string& path);

// The same for text already in memory; `source` names it in errors.
absl::StatusOr<ModelConfig> ParseModelConfigText(const std::string& text, const std::string& source);
absl::StatusOr<ModelConfig> ParseModelConfigJson(const std::string& json, const std::string& source);

// Fills the fields BERT leaves implicit: embedding_size = hidden_size and
// num_hidden_groups = num_hidden_layers when unset (0); inner_group_num = 1 when unset.
void NormalizeModelConfig(ModelConfig& config);

// InvalidArgument naming the first inconsistent field, e.g.
// "ModelConfig.hidden_size: 100 is not divisible by num_attention_heads (3)".
absl::Status ValidateModelConfig(const ModelConfig& config);

bool IsAlbert(const ModelConfig& config);

// The activation named by hidden_act; the config must be valid.
cpu::Activation ActivationOf(const ModelConfig& config);

}  // namespace cloze

#endif  // CLOZE_MODEL_MODEL_CONFIG_H_
