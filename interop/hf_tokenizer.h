// The tokenizer files of a Hugging Face model folder, as cloze tokenizer specs
// (data/tokenizer.h): spiece.model ↔ "spm-albert:PATH", vocab.txt ↔ "wordpiece:PATH".
#ifndef CLOZE_INTEROP_HF_TOKENIZER_H_
#define CLOZE_INTEROP_HF_TOKENIZER_H_

#include <string>

#include "absl/status/status.h"
#include "proto/model_config.pb.h"

namespace cloze::interop {

// The tokenizer spec for the vocabulary file in `folder`: "spm-albert:<folder>/spiece.model"
// or "wordpiece:<folder>/vocab.txt" (when both exist, the one of the model's family), or ""
// when the folder has neither. Only looks at file names; the file is not read.
std::string FindTokenizer(const std::string& folder, const ModelConfig& config);

// Loads the tokenizer `spec` and requires its vocabulary size to equal config.vocab_size:
// a mismatch (ids the embedding table has no row for, or rows no id reaches) is
// InvalidArgument naming the tokenizer file, its size, `config_source` and vocab_size.
// Errors loading the tokenizer are passed on.
absl::Status CheckTokenizerVocabulary(const std::string& spec, const ModelConfig& config,
                                      const std::string& config_source);

// Copies the vocabulary file of `spec` ("spm-albert:", "spm:" or "wordpiece:") into
// `folder` as HF names it (spiece.model / vocab.txt) and writes a tokenizer_config.json
// with the matching class (AlbertTokenizer / BertTokenizer), its special tokens and
// normalisation, so transformers' AutoTokenizer loads it. InvalidArgument for another spec
// kind; errors name the files.
absl::Status WriteHfTokenizer(const std::string& spec, const ModelConfig& config, const std::string& folder);

}  // namespace cloze::interop

#endif  // CLOZE_INTEROP_HF_TOKENIZER_H_
