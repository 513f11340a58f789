// Where a fine-tuning run's parameters start (FinetuneConfig.init):
//   "scratch"         the seed's initialisation (Model::InitializeParameters);
//   a cloze checkpoint directory (holding model.safetensors and manifest.pb.txt), or a run
//                     directory (its newest checkpoint): tensors loaded BY NAME into the
//                     fine-tuning layout, so the encoder's come across and the new head's
//                     keep the seed's values;
//   a Hugging Face folder (config.json + model.safetensors): interop::ImportHuggingFace.
// Tensors of the layout the file lacks are "missing" (they keep the seed's values), the
// file's tensors the layout does not use "unexpected"; both are reported as events.
#ifndef CLOZE_TRAINER_FINETUNE_INIT_H_
#define CLOZE_TRAINER_FINETUNE_INIT_H_

#include <functional>
#include <span>
#include <string>

#include "absl/status/statusor.h"
#include "model/head_spec.h"
#include "model/parameter_layout.h"
#include "proto/model_config.pb.h"

namespace cloze {

struct FinetuneInit {
  enum class Kind { kScratch, kCheckpoint, kHuggingFace };
  Kind kind = Kind::kScratch;
  std::string path;  // the checkpoint directory or Hugging Face folder
};

// What `init` names; NotFound naming it when it is none of the three.
absl::StatusOr<FinetuneInit> ResolveFinetuneInit(const std::string& init);

// The model config the initial parameters were made for: the checkpoint manifest's
// train_config.model, or the folder's config.json. InvalidArgument for kScratch.
absl::StatusOr<ModelConfig> InitModelConfig(const FinetuneInit& init);

// Overwrites `parameters` (of `layout`, holding the seed's initialisation) with the
// tensors of `init` that the layout has. FailedPrecondition when the file's vocabulary
// (its word embeddings' rows) differs from `tokenizer_vocab_size`, naming both; and when a
// tensor's shape differs from the layout's, naming it. `event` receives the summary and
// the missing and unexpected names.
absl::Status LoadInitialParameters(const FinetuneInit& init, const ModelConfig& config, const ParameterLayout& layout,
                                   const HeadSpec& head, uint64_t seed, int tokenizer_vocab_size,
                                   std::span<float> parameters, const std::function<void(const std::string&)>& event);

}  // namespace cloze

#endif  // CLOZE_TRAINER_FINETUNE_INIT_H_
