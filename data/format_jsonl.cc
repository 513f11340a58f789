// jsonl: JSON Lines, one document per line: {"text": "…", "id": …, "title": "…"}. The
// text is split into sentences; id and title (when present) become the provenance. Lines
// that do not parse or lack a string "text" are skipped and counted.
#include "absl/strings/str_cat.h"
#include "data/input_format.h"
#include "data/sentence_splitter.h"
#include "data/text_checks.h"
#include "nlohmann/json.hpp"

namespace cloze::data {
namespace {

std::string Provenance(const nlohmann::json& value) {
  std::string out;
  for (const char* field : {"id", "title"}) {
    auto it = value.find(field);
    if (it == value.end() || !(it->is_string() || it->is_number())) continue;
    absl::StrAppend(&out, out.empty() ? "" : " ", field, "=", it->is_string() ? it->get<std::string>() : it->dump());
  }
  return out;
}

class JsonLinesFormat : public InputFormat {
 public:
  void Line(std::string_view line, DocumentAssembler& out) override {
    if (TrimAsciiSpace(line).empty()) return;
    const nlohmann::json value = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded() || !value.is_object() || !value.contains("text") || !value["text"].is_string()) {
      ++out.stats().bad_json_lines;
      return;
    }
    if (std::string provenance = Provenance(value); !provenance.empty()) out.SetProvenanceDetail(provenance);
    for (const std::string& sentence : SplitSentences(value["text"].get_ref<const std::string&>())) {
      if (LooksBinary(sentence)) {  // JSON escapes can carry control bytes a raw line cannot
        ++out.stats().binary_lines;
        out.MarkInput();
        continue;
      }
      out.AddSentence(sentence);
    }
    out.MarkInput();  // a document with a text field but no sentence is an empty one
    out.EndDocument();
  }
  // A bad line is a whole document, already counted as a skipped line.
  void SkippedLine(DocumentAssembler&) override {}
};

}  // namespace

std::unique_ptr<InputFormat> MakeJsonLinesFormat() { return std::make_unique<JsonLinesFormat>(); }

}  // namespace cloze::data
