#include "trainer/finetune_init.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/safetensors.h"
#include "data/read_file.h"
#include "google/protobuf/text_format.h"
#include "interop/hf_import.h"
#include "model/model_config.h"

namespace cloze {
namespace {

namespace fs = std::filesystem;

std::string Listed(const std::vector<std::string>& names) {
  return names.empty() ? "none" : absl::StrJoin(names, ", ");
}

absl::Status CheckVocabulary(const std::string& source, int64_t file_vocab, int tokenizer_vocab) {
  if (file_vocab == tokenizer_vocab) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(source, " has a vocabulary of ", file_vocab,
                                                    " ids but the tokenizer has ", tokenizer_vocab));
}

absl::Status LoadCheckpointTensors(const std::string& dir, const ParameterLayout& layout, int tokenizer_vocab,
                                   std::span<float> parameters, const std::function<void(const std::string&)>& event) {
  const std::string path = absl::StrCat(dir, "/", kModelFileName);
  absl::StatusOr<SafetensorsFile> file = SafetensorsFile::Read(path);
  if (!file.ok()) return file.status();
  std::vector<std::string> loaded, missing, unexpected;
  std::set<std::string> used;
  for (const NamedTensor& t : layout.tensors) {
    auto entry = file->entries().find(t.name);
    if (entry == file->entries().end()) {
      missing.push_back(t.name);
      continue;
    }
    if (t.name.find("word_embeddings") != std::string::npos && !entry->second.shape.empty()) {
      if (absl::Status s = CheckVocabulary(path, entry->second.shape[0], tokenizer_vocab); !s.ok()) return s;
    }
    if (entry->second.shape != t.shape) {
      return absl::FailedPreconditionError(absl::StrCat(path, ": tensor ", t.name, " has shape [",
                                                        absl::StrJoin(entry->second.shape, ", "), "], the model's is [",
                                                        absl::StrJoin(t.shape, ", "), "]"));
    }
    absl::StatusOr<std::vector<float>> values = file->ToFloat32(t.name);
    if (!values.ok()) return values.status();
    std::copy(values->begin(), values->end(), parameters.begin() + t.offset);
    loaded.push_back(t.name);
    used.insert(t.name);
  }
  for (const auto& [name, entry] : file->entries()) {
    if (!used.count(name)) unexpected.push_back(name);
  }
  if (loaded.empty()) return absl::FailedPreconditionError(absl::StrCat(path, ": no tensor of the model's layout"));
  event(absl::StrCat("initialised from ", dir, ": ", loaded.size(), " tensors loaded; missing (from the seed): ",
                     Listed(missing), "; unexpected (ignored): ", Listed(unexpected)));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<FinetuneInit> ResolveFinetuneInit(const std::string& init) {
  if (init == "scratch") return FinetuneInit{};
  if (fs::exists(absl::StrCat(init, "/", kManifestFileName))) {
    return FinetuneInit{.kind = FinetuneInit::Kind::kCheckpoint, .path = init};
  }
  if (fs::exists(absl::StrCat(init, "/config.json"))) return FinetuneInit{.kind = FinetuneInit::Kind::kHuggingFace, .path = init};
  if (fs::is_directory(absl::StrCat(init, "/", kCheckpointsDirName))) {
    absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(init);
    if (!steps.ok()) return steps.status();
    if (!steps->empty()) {
      return FinetuneInit{.kind = FinetuneInit::Kind::kCheckpoint,
                          .path = absl::StrCat(init, "/", kCheckpointsDirName, "/", CheckpointDirName(steps->back()))};
    }
  }
  return absl::NotFoundError(absl::StrCat("--init=", init, ": neither \"scratch\", a checkpoint directory (",
                                          kManifestFileName, "), a run directory with checkpoints, nor a Hugging Face "
                                          "folder (config.json)"));
}

absl::StatusOr<ModelConfig> InitModelConfig(const FinetuneInit& init) {
  switch (init.kind) {
    case FinetuneInit::Kind::kScratch:
      return absl::InvalidArgumentError("--init=scratch has no model config: give --model_config");
    case FinetuneInit::Kind::kHuggingFace:
      return LoadModelConfig(absl::StrCat(init.path, "/config.json"));
    case FinetuneInit::Kind::kCheckpoint: {
      const std::string path = absl::StrCat(init.path, "/", kManifestFileName);
      absl::StatusOr<std::string> text = data::ReadFile(path);
      if (!text.ok()) return text.status();
      CheckpointManifest manifest;
      if (!google::protobuf::TextFormat::ParseFromString(*text, &manifest) || !manifest.train_config().has_model()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": not a checkpoint manifest with train_config.model"));
      }
      ModelConfig config = manifest.train_config().model();
      NormalizeModelConfig(config);
      if (absl::Status s = ValidateModelConfig(config); !s.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": train_config.model: ", s.message()));
      }
      return config;
    }
  }
  return absl::InternalError("unreachable");
}

absl::Status LoadInitialParameters(const FinetuneInit& init, const ModelConfig& config, const ParameterLayout& layout,
                                   const HeadSpec& head, uint64_t seed, int tokenizer_vocab_size,
                                   std::span<float> parameters, const std::function<void(const std::string&)>& event) {
  switch (init.kind) {
    case FinetuneInit::Kind::kScratch:
      event(absl::StrCat("initialised from scratch (seed ", seed, ")"));
      return absl::OkStatus();
    case FinetuneInit::Kind::kCheckpoint:
      return LoadCheckpointTensors(init.path, layout, tokenizer_vocab_size, parameters, event);
    case FinetuneInit::Kind::kHuggingFace: {
      absl::StatusOr<interop::HfImport> imported = interop::ImportHuggingFace(init.path, head, seed);
      if (!imported.ok()) return imported.status();
      if (absl::Status s = CheckVocabulary(init.path + "/config.json", imported->config.vocab_size(), tokenizer_vocab_size);
          !s.ok()) {
        return s;
      }
      if (imported->parameters.size() != parameters.size() || imported->config.hidden_size() != config.hidden_size()) {
        return absl::FailedPreconditionError(absl::StrCat(init.path, ": its model (", imported->parameters.size(),
                                                          " parameters) is not the run's (", parameters.size(), ")"));
      }
      std::copy(imported->parameters.begin(), imported->parameters.end(), parameters.begin());
      event(absl::StrCat("initialised from ", init.path, " (", imported->architecture, "): ",
                         imported->report.loaded.size(), " tensors loaded; missing (from the seed): ",
                         Listed(imported->report.missing), "; unexpected (ignored): ", Listed(imported->report.unexpected)));
      return absl::OkStatus();
    }
  }
  return absl::InternalError("unreachable");
}

}  // namespace cloze
