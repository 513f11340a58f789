// JSON Lines sentence files, CLUE style: {"sentence1": ..., "sentence2": ..., "label": ...}.
#include "tasks/sentence_records.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "tasks/task_file.h"

namespace cloze::tasks {
namespace {

using Json = nlohmann::json;

// The field's value as text: strings as they are, numbers in their JSON spelling (CLUE
// files mix "label": "1" and "label": 1). Null or missing: nullopt. Anything else: error.
absl::StatusOr<std::optional<std::string>> FieldText(const Json& object, const std::string& name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number()) return it->dump();
  return absl::InvalidArgumentError(absl::StrCat("is a JSON ", it->type_name(), ", expected a string"));
}

}  // namespace

absl::StatusOr<std::vector<SentenceRecord>> ReadJsonLinesRecords(const std::string& path,
                                                                 const SentenceLayout& layout,
                                                                 const ReadOptions& options,
                                                                 ReadStats* stats) {
  absl::StatusOr<std::string> text = ReadTaskFile(path);
  if (!text.ok()) return text.status();
  std::vector<absl::string_view> lines = absl::StrSplit(StripUtf8Bom(*text), '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the last line's end
  stats->lines += lines.size();
  std::vector<SentenceRecord> records;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == absl::string_view::npos) continue;
    SentenceRecord record;
    record.line = i + 1;
    const std::string where = absl::StrCat(path, ":", record.line, ": ");
    std::string error;
    Json object = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
    if (!object.is_object()) {
      error = absl::StrCat(where, "not a JSON object");
    } else {
      auto read = [&](const FieldRef& field, bool required) -> std::optional<std::string> {
        if (!error.empty()) return std::nullopt;
        absl::StatusOr<std::optional<std::string>> value = FieldText(object, field.name);
        if (!value.ok()) {
          error = absl::StrCat(where, "field '", field.name, "' ", value.status().message());
        } else if (!value->has_value() && required) {
          error = absl::StrCat(where, "field '", field.name, "' is missing");
        } else {
          return *value;
        }
        return std::nullopt;
      };
      record.text_a = read(layout.text_a, true).value_or("");
      if (layout.text_b) record.text_b = read(*layout.text_b, true);
      if (layout.label) record.label = read(*layout.label, !layout.label_optional);
      if (layout.id) record.id = read(*layout.id, false).value_or("");
    }
    if (!error.empty()) {
      if (!options.skip_bad_lines) return absl::InvalidArgumentError(error);
      stats->Skip(error);
      continue;
    }
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace cloze::tasks
