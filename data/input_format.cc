#include "data/input_format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace cloze::data {

const std::vector<std::string>& InputFormatNames() {
  static const auto* names = new std::vector<std::string>{"bert",    "paragraphs", "lines",   "wikitext",
                                                          "wikiextractor", "wrapped", "chinese", "jsonl"};
  return *names;
}

absl::StatusOr<std::unique_ptr<InputFormat>> MakeInputFormat(std::string_view name, const FormatOptions& options) {
  if (name == "bert") return MakeBertFormat();
  if (name == "paragraphs") return MakeParagraphsFormat();
  if (name == "lines") return MakeLinesFormat();
  if (name == "wikitext") return MakeWikiTextFormat();
  if (name == "wikiextractor") return MakeWikiExtractorFormat();
  if (name == "wrapped") return MakeWrappedFormat(options);
  if (name == "chinese") return MakeChineseFormat(options);
  if (name == "jsonl") return MakeJsonLinesFormat();
  return absl::InvalidArgumentError(
      absl::StrCat("input format \"", std::string(name), "\" is not one of auto, ", absl::StrJoin(InputFormatNames(), ", ")));
}

}  // namespace cloze::data
