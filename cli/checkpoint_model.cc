#include "cli/checkpoint_model.h"

#include <algorithm>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "checkpoint/checkpoint.h"
#include "data/read_file.h"
#include "google/protobuf/text_format.h"
#include "model/model_config.h"
#include "trainer/training_backend.h"

namespace cloze::cli {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<CheckpointManifest> ReadManifest(const std::string& checkpoint_dir) {
  const std::string path = absl::StrCat(checkpoint_dir, "/", kManifestFileName);
  absl::StatusOr<std::string> text = data::ReadFile(path);
  if (!text.ok()) return text.status();
  CheckpointManifest manifest;
  if (!google::protobuf::TextFormat::ParseFromString(*text, &manifest) || !manifest.train_config().has_model()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a checkpoint manifest with train_config.model"));
  }
  ModelConfig& config = *manifest.mutable_train_config()->mutable_model();
  NormalizeModelConfig(config);
  if (absl::Status s = ValidateModelConfig(config); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": train_config.model: ", s.message()));
  }
  return manifest;
}

absl::StatusOr<Model> EmptyModel(const TrainConfig& config, cpu::Precision precision) {
  return Model::Create(config.model(), HeadSpecOf(config), precision);
}

absl::StatusOr<CheckpointModel> Restore(std::string dir, CheckpointManifest manifest, Model model,
                                        std::vector<float> parameters) {
  std::copy(parameters.begin(), parameters.end(), model.parameters().begin());
  return CheckpointModel{.checkpoint_dir = std::move(dir), .manifest = std::move(manifest), .model = std::move(model)};
}

}  // namespace

absl::StatusOr<CheckpointModel> LoadCheckpointModel(const std::string& path, cpu::Precision precision) {
  if (fs::exists(absl::StrCat(path, "/", kManifestFileName))) {
    absl::StatusOr<CheckpointManifest> manifest = ReadManifest(path);
    if (!manifest.ok()) return manifest.status();
    absl::StatusOr<Model> model = EmptyModel(manifest->train_config(), precision);
    if (!model.ok()) return model.status();
    absl::StatusOr<CheckpointContents> contents = LoadCheckpoint(path, model->layout());
    if (!contents.ok()) return contents.status();
    return Restore(path, *std::move(manifest), *std::move(model), std::move(contents->parameters));
  }
  const std::string not_found = absl::StrCat(path, ": neither a checkpoint folder (with ", kManifestFileName,
                                             ") nor a run folder with a valid checkpoint");
  if (!fs::is_directory(absl::StrCat(path, "/", kCheckpointsDirName))) return absl::NotFoundError(not_found);
  absl::StatusOr<std::vector<int64_t>> steps = ListCheckpointSteps(path);
  if (!steps.ok()) return steps.status();
  // The model comes from the newest readable manifest; LoadLatestValidCheckpoint then
  // verifies the files and skips damaged checkpoints.
  for (auto step = steps->rbegin(); step != steps->rend(); ++step) {
    absl::StatusOr<CheckpointManifest> manifest =
        ReadManifest(absl::StrCat(path, "/", kCheckpointsDirName, "/", CheckpointDirName(*step)));
    if (!manifest.ok()) continue;
    absl::StatusOr<Model> model = EmptyModel(manifest->train_config(), precision);
    if (!model.ok()) return model.status();
    absl::StatusOr<LoadedCheckpoint> loaded = LoadLatestValidCheckpoint(path, model->layout());
    if (absl::IsNotFound(loaded.status())) return absl::NotFoundError(not_found);
    if (!loaded.ok()) return loaded.status();
    return Restore(loaded->path, loaded->contents.manifest, *std::move(model), std::move(loaded->contents.parameters));
  }
  return absl::NotFoundError(not_found);
}

}  // namespace cloze::cli
