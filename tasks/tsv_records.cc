// TSV files as GLUE ships them: raw tab-split lines, no quoting.
#include "tasks/sentence_records.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "tasks/task_file.h"

namespace cloze::tasks {
namespace {

// The file's lines without their LF or CRLF ends; trailing blank lines dropped.
std::vector<absl::string_view> SplitLines(absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  for (absl::string_view& line : lines) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  }
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  return lines;
}

// Resolves `field` to a column position: by name in `header`, or its fixed index.
absl::StatusOr<int> Resolve(const FieldRef& field, const std::vector<absl::string_view>* header,
                            int num_columns, const std::string& path) {
  if (header == nullptr) {
    if (field.index < 0 || field.index >= num_columns) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ": ", field.Describe(), " is outside the ", num_columns, " columns of the file"));
    }
    return field.index;
  }
  for (size_t i = 0; i < header->size(); ++i) {
    if ((*header)[i] == field.name) return static_cast<int>(i);
  }
  return absl::InvalidArgumentError(absl::StrCat(path, ":1: the header has no ", field.Describe(),
                                                 " (it has: ", absl::StrJoin(*header, ", "), ")"));
}

}  // namespace

std::string FieldRef::Describe() const {
  return name.empty() ? absl::StrCat("column ", index) : absl::StrCat("column '", name, "'");
}

absl::StatusOr<std::vector<SentenceRecord>> ReadTsvRecords(const std::string& path,
                                                           const SentenceLayout& layout,
                                                           const ReadOptions& options,
                                                           ReadStats* stats) {
  absl::StatusOr<std::string> text = ReadTaskFile(path);
  if (!text.ok()) return text.status();
  const std::vector<absl::string_view> lines = SplitLines(StripUtf8Bom(*text));
  stats->lines += lines.size();

  std::vector<absl::string_view> header;
  int num_columns = layout.num_columns;
  size_t first_row = 0;
  if (layout.has_header) {
    if (lines.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty file, expected a header"));
    header = absl::StrSplit(lines[0], '\t');
    num_columns = header.size();
    first_row = 1;
  }
  const std::vector<absl::string_view>* names = layout.has_header ? &header : nullptr;
  absl::StatusOr<int> text_a = Resolve(layout.text_a, names, num_columns, path);
  if (!text_a.ok()) return text_a.status();
  int text_b = -1, label = -1, id = -1;
  for (auto [field, column] : {std::pair{&layout.text_b, &text_b}, {&layout.label, &label}, {&layout.id, &id}}) {
    if (!field->has_value()) continue;
    absl::StatusOr<int> resolved = Resolve(**field, names, num_columns, path);
    if (!resolved.ok()) {
      if (field == &layout.label && layout.label_optional) continue;  // an unlabelled file
      return resolved.status();
    }
    *column = *resolved;
  }

  std::vector<SentenceRecord> records;
  records.reserve(lines.size() - first_row);
  for (size_t i = first_row; i < lines.size(); ++i) {
    const int64_t line_number = i + 1;
    std::vector<absl::string_view> fields = absl::StrSplit(lines[i], '\t');
    if (static_cast<int>(fields.size()) != num_columns) {
      std::string error = absl::StrCat(path, ":", line_number, ": expected ", num_columns,
                                       " tab-separated columns, found ", fields.size());
      if (!options.skip_bad_lines) return absl::InvalidArgumentError(error);
      stats->Skip(error);
      continue;
    }
    SentenceRecord record;
    record.line = line_number;
    record.text_a = std::string(fields[*text_a]);
    if (text_b >= 0) record.text_b = std::string(fields[text_b]);
    if (label >= 0) record.label = std::string(fields[label]);
    if (id >= 0) record.id = std::string(fields[id]);
    records.push_back(std::move(record));
  }
  return records;
}

}  // namespace cloze::tasks
