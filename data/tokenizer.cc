#include "data/tokenizer.h"

#include "absl/strings/str_cat.h"
#include "data/read_file.h"
#include "data/sentencepiece_tokenizer.h"
#include "data/wordpiece_tokenizer.h"

namespace cloze::data {

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string path = colon == std::string::npos ? "" : spec.substr(colon + 1);
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer \"", spec, "\": ", why));
  };
  if (kind == "spm-train") {
    return invalid("a model to train, not to load: `cloze prepare` trains it and loads it as spm:");
  }
  if (kind != "spm" && kind != "spm-albert" && kind != "wordpiece") {
    return invalid("expected spm:PATH, spm-albert:PATH or wordpiece:PATH");
  }
  if (path.empty()) return invalid("the path is missing");

  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    return absl::Status(bytes.status().code(),
                        absl::StrCat("tokenizer \"", spec, "\": ", bytes.status().message()));
  }
  if (kind == "wordpiece") return WordPieceTokenizer::Create(*bytes, spec);
  return SentencePieceTokenizer::Create(*bytes,
                                        kind == "spm-albert" ? SentencePieceNormalization::kAlbert
                                                             : SentencePieceNormalization::kPlain,
                                        spec);
}

}  // namespace cloze::data
