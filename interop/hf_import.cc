#include "interop/hf_import.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "interop/hf_names.h"
#include "interop/hf_tokenizer.h"
#include "nlohmann/json.hpp"
#include "trainer/head.h"
#include "trainer/initialize.h"
#include "trainer/model_config.h"
#include "trainer/parameter_layout.h"
#include "trainer/safetensors.h"

namespace cloze::interop {
namespace {

using nlohmann::json;

std::string ShapeString(const std::vector<int64_t>& shape) { return absl::StrCat("[", absl::StrJoin(shape, ", "), "]"); }

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": not found (a Hugging Face model folder has config.json and model.safetensors)"));
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// What config.json holds beyond ModelConfig's fields.
struct HfConfigExtras {
  std::string architecture;
  std::vector<std::string> label_names;
};

absl::StatusOr<HfConfigExtras> ParseExtras(const std::string& text, const std::string& path) {
  const json config = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object()) return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  HfConfigExtras extras;
  if (auto it = config.find("architectures"); it != config.end() && it->is_array() && !it->empty() &&
                                              (*it)[0].is_string()) {
    extras.architecture = (*it)[0].get<std::string>();
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

// Which file tensor feeds each layout tensor; the rest of the file is unexpected.
struct NameMatch {
  std::map<std::string, std::string> source;  // layout name → file name
  std::vector<std::string> unexpected;
  std::string tied_decoder;                   // file name of the MLM decoder weight, if read
};

absl::StatusOr<NameMatch> MatchNames(const SafetensorsFile& file, const ParameterLayout& layout,
                                     const ModelConfig& config, const std::string& path) {
  std::map<std::string, const NamedTensor*> by_name;
  for (const NamedTensor& t : layout.tensors) by_name[t.name] = &t;
  const TiedMlmNames tied = TiedMlm(config);
  const bool has_mlm = by_name.count(tied.output_bias) > 0;

  NameMatch match;
  std::string decoder_bias;
  for (const auto& [name, entry] : file.entries()) {
    const std::string canonical = CanonicalTensorName(name, config);
    if (has_mlm && canonical == tied.decoder_weight) {
      match.tied_decoder = name;
    } else if (has_mlm && canonical == tied.decoder_bias) {
      decoder_bias = name;
    } else if (by_name.count(canonical) == 0) {
      match.unexpected.push_back(name);
    } else if (auto [it, inserted] = match.source.emplace(canonical, name); !inserted) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": tensors \"", it->second, "\" and \"", name,
                                                     "\" are both \"", canonical, "\""));
    }
  }
  // HF ties these; a file that kept only the tied copy still holds the values.
  if (!decoder_bias.empty() && !match.source.emplace(tied.output_bias, decoder_bias).second) {
    match.unexpected.push_back(decoder_bias);  // redundant with the output bias, which wins
  }
  if (!match.tied_decoder.empty() && match.source.emplace(tied.word_embeddings, match.tied_decoder).second) {
    match.tied_decoder.clear();  // it is the word embeddings; nothing to compare
  }
  std::sort(match.unexpected.begin(), match.unexpected.end());
  return match;
}

absl::Status CheckTiedDecoder(const SafetensorsFile& file, const NameMatch& match, const NamedTensor& words,
                              std::span<const float> parameters, const std::string& path) {
  absl::StatusOr<std::vector<float>> decoder = file.ToFloat32(match.tied_decoder);
  if (!decoder.ok()) return decoder.status();
  if (static_cast<int64_t>(decoder->size()) == words.size &&
      std::equal(decoder->begin(), decoder->end(), parameters.begin() + words.offset)) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(path, ": \"", match.tied_decoder, "\" differs from \"", words.name,
                                                    "\"; cloze ties the MLM decoder to the word embeddings "
                                                    "(tie_word_embeddings = true)"));
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
  const NamedTensor* words = nullptr;
  for (const NamedTensor& t : layout.tensors) {
    if (t.name == TiedMlm(result.config).word_embeddings) words = &t;
    auto source = match->source.find(t.name);
    if (source == match->source.end()) {
      result.report.missing.push_back(t.name);
      continue;
    }
    const std::vector<int64_t>& shape = file->entries().at(source->second).shape;
    if (shape != t.shape) {
      return absl::InvalidArgumentError(absl::StrCat(weights_path, ": tensor \"", source->second, "\" has shape ",
                                                     ShapeString(shape), " but the model (", HeadKindName(head.kind),
                                                     " head) expects ", ShapeString(t.shape), " for \"", t.name,
                                                     "\""));
    }
    absl::StatusOr<std::vector<float>> values = file->ToFloat32(source->second);
    if (!values.ok()) return values.status();
    std::copy(values->begin(), values->end(), result.parameters.begin() + t.offset);
    result.report.loaded.push_back(t.name);
  }
  if (!match->tied_decoder.empty() && words != nullptr) {
    if (absl::Status s = CheckTiedDecoder(*file, *match, *words, result.parameters, weights_path); !s.ok()) return s;
  }
  result.report.unexpected = std::move(match->unexpected);
  result.tokenizer = FindTokenizer(folder, result.config);
  return result;
}

}  // namespace cloze::interop
