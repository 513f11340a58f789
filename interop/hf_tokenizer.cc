#include "interop/hf_tokenizer.h"

#include <filesystem>
#include <fstream>
#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "data/tokenizer.h"
#include "nlohmann/json.hpp"
#include "model/model_config.h"

namespace cloze::interop {
namespace {

namespace fs = std::filesystem;

// The file part of a spec, after its "kind:".
std::string SpecPath(const std::string& spec) {
  const size_t colon = spec.find(':');
  return colon == std::string::npos ? spec : spec.substr(colon + 1);
}

absl::Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return absl::InternalError(absl::StrCat(path, ": cannot write"));
  return absl::OkStatus();
}

}  // namespace

std::string FindTokenizer(const std::string& folder, const ModelConfig& config) {
  const std::string spiece = folder + "/spiece.model", vocab = folder + "/vocab.txt";
  const bool has_spiece = fs::is_regular_file(spiece), has_vocab = fs::is_regular_file(vocab);
  if (has_spiece && (!has_vocab || IsAlbert(config))) return "spm-albert:" + spiece;
  if (has_vocab) return "wordpiece:" + vocab;
  return "";
}

absl::Status CheckTokenizerVocabulary(const std::string& spec, const ModelConfig& config,
                                      const std::string& config_source) {
  absl::StatusOr<std::unique_ptr<data::Tokenizer>> tokenizer = data::LoadTokenizer(spec);
  if (!tokenizer.ok()) return tokenizer.status();
  if ((*tokenizer)->vocab_size() == config.vocab_size()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("tokenizer ", spec, " has ", (*tokenizer)->vocab_size(),
                                                 " pieces but ", config_source, " has vocab_size ",
                                                 config.vocab_size()));
}

absl::Status WriteHfTokenizer(const std::string& spec, const ModelConfig& config, const std::string& folder) {
  const bool sentencepiece = absl::StartsWith(spec, "spm-albert:") || absl::StartsWith(spec, "spm:");
  if (!sentencepiece && !absl::StartsWith(spec, "wordpiece:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("tokenizer \"", spec, "\": exportable specs are spm-albert:, spm: and wordpiece:"));
  }
  const std::string target = folder + (sentencepiece ? "/spiece.model" : "/vocab.txt");
  std::error_code error;
  fs::copy_file(SpecPath(spec), target, error);
  if (error)
    return absl::NotFoundError(absl::StrCat(SpecPath(spec), ": cannot copy to ", target, ": ", error.message()));

  nlohmann::json tokenizer_config;
  tokenizer_config["model_max_length"] = config.max_position_embeddings();
  tokenizer_config["mask_token"] = "[MASK]";
  tokenizer_config["cls_token"] = "[CLS]";
  tokenizer_config["sep_token"] = "[SEP]";
  if (sentencepiece) {
    // What ALBERT's released tokenizers use; "spm:" is the model's own normalisation only.
    const bool albert_preprocessing = absl::StartsWith(spec, "spm-albert:");
    tokenizer_config["tokenizer_class"] = "AlbertTokenizer";
    tokenizer_config["do_lower_case"] = albert_preprocessing;
    tokenizer_config["keep_accents"] = !albert_preprocessing;
    tokenizer_config["remove_space"] = true;
    tokenizer_config["unk_token"] = "<unk>";
    tokenizer_config["pad_token"] = "<pad>";
    tokenizer_config["bos_token"] = "[CLS]";
    tokenizer_config["eos_token"] = "[SEP]";
  } else {
    tokenizer_config["tokenizer_class"] = "BertTokenizer";
    tokenizer_config["do_lower_case"] = true;  // cloze's WordPiece is BERT uncased
    tokenizer_config["tokenize_chinese_chars"] = true;
    tokenizer_config["unk_token"] = "[UNK]";
    tokenizer_config["pad_token"] = "[PAD]";
  }
  return WriteText(folder + "/tokenizer_config.json", tokenizer_config.dump(2) + "\n");
}

}  // namespace cloze::interop
