#include "interop/hf_import.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "interop/hf_names.h"
#include "interop/hf_tokenizer.h"
#include "nlohmann/json.hpp"
#include "model/head.h"
#include "model/initialize.h"
#include "model/model_config.h"
#include "model/parameter_layout.h"
#include "checkpoint/safetensors.h"

namespace cloze::interop {
namespace {

using nlohmann::json;

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::NotFoundError(
        absl::StrCat(path, ": not found (a Hugging Face model folder has config.json and model.safetensors)"));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// What config.json holds beyond ModelConfig's fields.
struct HfConfigExtras {
  std::string architecture;
  std::vector<std::string> label_names;
  // BertConfig's name for ModelConfig.classifier_dropout_prob (AlbertConfig's); absent or
  // null there means HF falls back to hidden_dropout_prob, which cloze does not: 0 stays.
  std::optional<float> bert_classifier_dropout;
};

absl::StatusOr<HfConfigExtras> ParseExtras(const std::string& text, const std::string& path) {
  const json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  HfConfigExtras extras;
  if (auto it = config.find("architectures");
      it != config.end() && it->is_array() && !it->empty() && (*it)[0].is_string()) {
    extras.architecture = (*it)[0].get<std::string>();
  }
  if (auto it = config.find("classifier_dropout"); it != config.end() && it->is_number()) {
    extras.bert_classifier_dropout = it->get<float>();
  }
  if (auto it = config.find("position_embedding_type");
      it != config.end() && !(it->is_string() && it->get<std::string>() == "absolute")) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": position_embedding_type ", it->dump(),
                                                   " is not supported (cloze has absolute positions only)"));
  }
  if (auto it = config.find("id2label"); it != config.end() && it->is_object()) {
    extras.label_names.resize(it->size());
    std::vector<bool> seen(it->size(), false);
    for (const auto& [key, value] : it->items()) {
      size_t id = 0;
      const bool numeric = !key.empty() && key.find_first_not_of("0123456789") == std::string::npos &&
                           key.size() < 10 && (id = std::stoul(key)) < seen.size();
      if (!numeric || seen[id] || !value.is_string()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": id2label: entry \"", key, "\": ", value.dump(),
                                                       " (ids must be 0 .. ", seen.size() - 1,
                                                       ", each once, with string labels)"));
      }
      seen[id] = true;
      extras.label_names[id] = value.get<std::string>();
    }
  }
  return extras;
}

// Which file tensor feeds each layout tensor; the rest of the file is unexpected, but for
// second copies of tied tensors, which must equal the copy that was loaded.
struct NameMatch {
  std::map<std::string, std::string> source;  // layout name → file name
  std::vector<std::string> unexpected;
  std::map<std::string, std::string> tied_copies;  // file name → the layout name it must equal
};

absl::StatusOr<NameMatch> MatchNames(const SafetensorsFile& file, const ParameterLayout& layout,
                                     const ModelConfig& config, const std::string& path) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : layout.tensors) by_name[t.name] = &t;
  const TiedMlmNames tied = TiedMlm(config);
  const bool has_mlm = by_name.count(tied.output_bias) > 0;

  NameMatch match;
  std::map<std::string, std::string> tied_names;  // HF's tied name → the layout's, for the MLM head
  if (has_mlm) tied_names = {{tied.decoder_weight, tied.word_embeddings}, {tied.decoder_bias, tied.output_bias}};
  for (const auto& [name, entry] : file.entries()) {
    const std::string canonical = CanonicalTensorName(name, config);
    if (auto it = tied_names.find(canonical); it != tied_names.end()) {
      match.tied_copies[name] = it->second;
    } else if (by_name.count(canonical) == 0) {
      match.unexpected.push_back(name);
    } else if (auto [it, inserted] = match.source.emplace(canonical, name); !inserted) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": tensors \"", it->second, "\" and \"", name, "\" are both \"", canonical, "\""));
    }
  }
  // A file that kept only HF's tied copy (older versions saved the decoder) still holds
  // the values; then there is nothing left to compare.
  for (auto it = match.tied_copies.begin(); it != match.tied_copies.end();) {
    it = match.source.emplace(it->second, it->first).second ? match.tied_copies.erase(it) : std::next(it);
  }
  std::sort(match.unexpected.begin(), match.unexpected.end());
  return match;
}

// cloze stores a tied pair once; a file whose copies differ (tie_word_embeddings = false)
// cannot be represented and is refused rather than silently changed.
absl::Status CheckTiedCopy(const SafetensorsFile& file, const std::string& copy, const NamedTensor& loaded,
                           std::span<const float> parameters, const std::string& path) {
  absl::StatusOr<std::vector<float>> values = file.ToFloat32(copy);
  if (!values.ok()) return values.status();
  if (static_cast<int64_t>(values->size()) == loaded.size &&
      std::equal(values->begin(), values->end(), parameters.begin() + loaded.offset)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(path, ": \"", copy, "\" differs from \"", loaded.name,
                                                    "\"; cloze ties the MLM decoder to the word embeddings and "
                                                    "the output bias (tie_word_embeddings = true)"));
}

}  // namespace

absl::StatusOr<HfImport> ImportHuggingFace(const std::string& folder, const HeadSpec& head, uint64_t seed) {
  const std::string config_path = folder + "/config.json", weights_path = folder + "/model.safetensors";
  absl::StatusOr<std::string> config_text = ReadFile(config_path);
  if (!config_text.ok()) return config_text.status();
  HfImport result;
  absl::StatusOr<ModelConfig> config = ParseModelConfigJson(*config_text, config_path);
  if (!config.ok()) return config.status();
  result.config = *std::move(config);
  absl::StatusOr<HfConfigExtras> extras = ParseExtras(*config_text, config_path);
  if (!extras.ok()) return extras.status();
  if (!IsAlbert(result.config) && extras->bert_classifier_dropout.has_value()) {
    result.config.set_classifier_dropout_prob(*extras->bert_classifier_dropout);
    if (absl::Status s = ValidateModelConfig(result.config); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(config_path, ": classifier_dropout: ", s.message()));
    }
  }
  result.architecture = extras->architecture;
  result.label_names = extras->label_names;

  if (absl::StatusOr<std::unique_ptr<HeadDefinition>> definition =
          MakeHeadDefinition(head, result.config, BuildEncoderLayout(result.config));
      !definition.ok()) {
    return definition.status();
  }
  if (!std::filesystem::exists(weights_path)) {
    const bool pickle = std::filesystem::exists(folder + "/pytorch_model.bin");
    return absl::NotFoundError(absl::StrCat(weights_path, ": not found",
                                            pickle ? " (only pytorch_model.bin is there: re-save it with "
                                                     "save_pretrained(..., safe_serialization=True))"
                                                   : ""));
  }
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Read(weights_path);
  if (!file.ok()) return file.status();

  const ParameterLayout layout = BuildParameterLayout(result.config, head);
  result.parameters.resize(layout.total_size);
  InitializeParameterBuffer(layout, result.config, seed, result.parameters);

  absl::StatusOr<NameMatch> match = MatchNames(*file, layout, result.config, weights_path);
  if (!match.ok()) return match.status();
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : layout.tensors) {
    by_name[t.name] = &t;
    auto source = match->source.find(t.name);
    if (source == match->source.end()) {
      result.report.missing.push_back(t.name);
      continue;
    }
    const std::vector<int64_t>& shape = file->entries().at(source->second).shape;
    if (shape != t.shape) {
      return absl::InvalidArgumentError(absl::StrCat(weights_path, ": tensor \"", source->second, "\" has shape ",
                                                     ShapeString(shape), " but the model (", HeadKindName(head.kind),
                                                     " head) expects ", ShapeString(t.shape), " for \"", t.name, "\""));
    }
    absl::StatusOr<std::vector<float>> values = file->ToFloat32(source->second);
    if (!values.ok()) return values.status();
    std::copy(values->begin(), values->end(), result.parameters.begin() + t.offset);
    result.report.loaded.push_back(t.name);
  }
  for (const auto& [copy, layout_name] : match->tied_copies) {
    if (absl::Status s = CheckTiedCopy(*file, copy, *by_name.at(layout_name), result.parameters, weights_path);
        !s.ok()) {
      return s;
    }
  }
  result.report.unexpected = std::move(match->unexpected);
  result.tokenizer = FindTokenizer(folder, result.config);
  return result;
}

}  // namespace cloze::interop
