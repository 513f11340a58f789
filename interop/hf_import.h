// Importing a Hugging Face ALBERT/BERT model folder into cloze's parameter layout.
//
// The folder is what transformers' save_pretrained writes: config.json and
// model.safetensors, optionally a tokenizer (spiece.model or vocab.txt). Any of
// AlbertModel, AlbertForPreTraining, AlbertForMaskedLM, AlbertForSequenceClassification,
// AlbertForTokenClassification, AlbertForQuestionAnswering and their BERT twins loads into
// any head: tensors are matched BY NAME (hf_names.h: prefixed or bare encoder names, old
// gamma/beta LayerNorm names, the tied MLM decoder), so fine-tuning a classifier from a
// pretraining checkpoint is an import with a different head.
//
//   missing     tensors the target layout has and the file lacks (a new classifier, the
//               pooler of an AlbertForTokenClassification checkpoint loaded under a
//               sequence head): initialised as a fresh model from `seed`
//               (InitializeParameterBuffer), reported by layout name;
//   unexpected  tensors of the file the layout does not use (`predictions.*` under a
//               classifier, a pooler under a token head, position_ids buffers): ignored,
//               reported by file name.
// Half-precision files (F16, BF16) are converted to float exactly.
#ifndef CLOZE_INTEROP_HF_IMPORT_H_
#define CLOZE_INTEROP_HF_IMPORT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "proto/model_config.pb.h"
#include "model/head_spec.h"

namespace cloze::interop {

struct HfImportReport {
  std::vector<std::string> loaded;      // layout names read from the file, in layout order
  std::vector<std::string> missing;     // layout names initialised from the seed, in layout order
  std::vector<std::string> unexpected;  // file names not used, sorted
};

struct HfImport {
  ModelConfig config;             // from config.json, normalised and validated
  std::vector<float> parameters;  // BuildParameterLayout(config, head)'s layout: Model::Create(config, head)
  HfImportReport report;
  // config.json's architectures[0], e.g. "AlbertForMaskedLM"; "" if absent.
  std::string architecture;
  // id2label ordered by id, e.g. {"negative", "positive"}; empty when config.json has none.
  std::vector<std::string> label_names;
  // The folder's tokenizer as a cloze spec (hf_tokenizer.h: "spm-albert:<folder>/spiece.model"
  // or "wordpiece:<folder>/vocab.txt"), "" if none. Not loaded here: check it with
  // CheckTokenizerVocabulary(tokenizer, config, ...) before encoding text for the model.
  std::string tokenizer;
};

// Reads `folder`/config.json and `folder`/model.safetensors into the layout of `head` on
// that config. Errors (never a crash) name the file and, where one is at fault, the field
// or tensor:
//   NotFound         config.json or model.safetensors is absent;
//   InvalidArgument  config.json is not a usable ALBERT/BERT config (unknown model_type,
//                    inconsistent sizes, unsupported position_embedding_type), `head` is
//                    unusable, a tensor's shape differs from the layout's (both shapes
//                    named), a tensor is not floating point, two file names map to one
//                    layout tensor;
//   FailedPrecondition  an MLM decoder weight or bias that differs from the word
//                    embeddings or the output bias (cloze always ties them; a file with
//                    only the decoder's copy is fine);
//   DataLoss         model.safetensors is corrupt.
absl::StatusOr<HfImport> ImportHuggingFace(const std::string& folder, const HeadSpec& head, uint64_t seed);

}  // namespace cloze::interop

#endif  // CLOZE_INTEROP_HF_IMPORT_H_
