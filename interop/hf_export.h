// Exporting a cloze model as a Hugging Face model folder that transformers loads with
// AutoModelFor* / AutoTokenizer (the inverse of hf_import.h).
//
//   config.json             model_type, architectures (hf_names.h: e.g.
//                           "AlbertForSequenceClassification"), the ModelConfig fields under
//                           HF's names, and for classification heads id2label / label2id /
//                           num_labels and (sequence heads) problem_type "regression" or
//                           "single_label_classification"; BERT's classifier dropout as
//                           "classifier_dropout" (ALBERT: classifier_dropout_prob);
//   model.safetensors       every layout tensor under its HF name (the For* models' prefixed
//                           names), F32, metadata {"format": "pt"}; the tied MLM decoder is
//                           left out, as save_pretrained leaves it out, and HF re-ties it;
//   spiece.model / vocab.txt + tokenizer_config.json   when a tokenizer is given
//                           (hf_tokenizer.h).
#ifndef CLOZE_INTEROP_HF_EXPORT_H_
#define CLOZE_INTEROP_HF_EXPORT_H_

#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"
#include "model/head_spec.h"

namespace cloze::interop {

// Writes the folder described above. `parameters` has BuildParameterLayout(config, head)'s
// layout (Model::parameters()). `label_names` names the classes of a classification head
// (empty: HF's defaults "LABEL_0", ...; otherwise exactly num_labels names); other heads
// take none. `tokenizer` is a cloze spec ("spm-albert:PATH", "spm:PATH", "wordpiece:PATH")
// or "" for none; its vocabulary size must equal config.vocab_size.
//
// Refuses (FailedPrecondition) a `folder` that exists and is not empty, so an export never
// mixes with or overwrites another model; creates it otherwise. InvalidArgument for an
// invalid config or head, a parameter count that is not the layout's, wrong label names, a
// tokenizer of another vocabulary size. A failure part-way leaves a partial folder.
absl::Status ExportHuggingFace(const ModelConfig& config, const HeadSpec& head,
                               const std::vector<std::string>& label_names, std::span<const float> parameters,
                               const std::string& tokenizer, const std::string& folder);

}  // namespace cloze::interop

#endif  // CLOZE_INTEROP_HF_EXPORT_H_
