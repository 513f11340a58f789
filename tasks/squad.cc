#include "tasks/squad.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "tasks/task_file.h"

namespace cloze::tasks {
namespace {

using Json = nlohmann::json;

// Byte offset of every code point of `text`, plus text.size() at the end: a code-point
// offset i is byte offset offsets[i]. The JSON parser has already validated the UTF-8.
std::vector<int64_t> CodePointOffsets(const std::string& text) {
  std::vector<int64_t> offsets;
  offsets.reserve(text.size() + 1);
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets.push_back(i);
  }
  offsets.push_back(text.size());
  return offsets;
}

// A string member of `object`, or the error naming `field`.
absl::StatusOr<std::string> StringField(const Json& object, const std::string& field) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field '", field, "' is ", it == object.end() ? "missing" : "not a string"));
  }
  return it->get<std::string>();
}

// Reads `qa[list]` (answers or plausible_answers) into *answers, checking each span.
absl::Status ReadAnswers(const Json& qa, const char* list, const std::string& context,
                         const std::vector<int64_t>& offsets, std::vector<QaAnswer>* answers) {
  auto it = qa.find(list);
  if (it == qa.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat("field '", list, "' is not a list"));
  }
  for (size_t i = 0; i < it->size(); ++i) {
    const Json& answer = (*it)[i];
    const std::string field = absl::StrCat(list, "[", i, "]");
    if (!answer.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("field '", field, "' is not an object"));
    }
    absl::StatusOr<std::string> text = StringField(answer, "text");
    if (!text.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ".", text.status().message()));
    auto start = answer.find("answer_start");
    if (start == answer.end() || !start->is_number_integer()) {
      return absl::InvalidArgumentError(
          absl::StrCat("field '", field, ".answer_start' is missing or not an integer"));
    }
    const int64_t char_start = start->get<int64_t>();
    const int64_t code_points = offsets.size() - 1;
    if (char_start < 0 || char_start > code_points) {
      return absl::InvalidArgumentError(
          absl::StrCat("field '", field, ".answer_start' ", char_start,
                       " is outside the context's ", code_points, " characters"));
    }
    const int64_t byte_start = offsets[char_start];
    if (context.compare(byte_start, text->size(), *text) != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field '", field, ".answer_start' ", char_start, ": the context there reads '",
          context.substr(byte_start, text->size()), "', not the answer text '", *text, "'"));
    }
    answers->push_back(QaAnswer{*std::move(text), char_start, byte_start});
  }
  return absl::OkStatus();
}

// One question of a paragraph; errors name the field, the caller adds file and id.
absl::Status ReadQuestion(const Json& qa, const std::string& context,
                          const std::vector<int64_t>& offsets, QaExample* example) {
  absl::StatusOr<std::string> question = StringField(qa, "question");
  if (!question.ok()) return question.status();
  example->question = *std::move(question);
  example->context = context;
  auto impossible = qa.find("is_impossible");
  if (impossible != qa.end()) {
    if (!impossible->is_boolean()) {
      return absl::InvalidArgumentError("field 'is_impossible' is not true or false");
    }
    example->is_impossible = impossible->get<bool>();
  }
  if (absl::Status status = ReadAnswers(qa, "answers", context, offsets, &example->answers);
      !status.ok()) {
    return status;
  }
  return ReadAnswers(qa, "plausible_answers", context, offsets, &example->plausible_answers);
}

// `json` parsed; InvalidArgument naming the file, and the line where it stops being JSON.
absl::StatusOr<Json> ParseJson(const std::string& path, absl::string_view json) {
  try {
    return Json::parse(json.begin(), json.end());
  } catch (const Json::parse_error& e) {
    // e.byte: the 1-based offset of the byte the parser stopped at.
    const size_t stop = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, json.size());
    const int64_t line = 1 + std::count(json.begin(), json.begin() + stop, '\n');
    // "[json.exception.parse_error.101] parse error at line 1, column 9: syntax error ...":
    // the reason after the position.
    std::string reason = e.what();
    if (const size_t colon = reason.find(": "); colon != std::string::npos) reason = reason.substr(colon + 2);
    return absl::InvalidArgumentError(absl::StrCat(path, ":", line, ": not valid JSON: ", reason));
  }
}

}  // namespace

absl::StatusOr<std::vector<QaExample>> ReadSquad(const std::string& path, const ReadOptions& options,
                                                 ReadStats* total_stats) {
  ReadStats file_stats;  // added to *total_stats on success only
  ReadStats* stats = &file_stats;
  absl::StatusOr<std::string> text = ReadTaskFile(path);
  if (!text.ok()) return text.status();
  absl::StatusOr<Json> parsed = ParseJson(path, StripUtf8Bom(*text));
  if (!parsed.ok()) return parsed.status();
  const Json& root = *parsed;
  if (!root.is_object() || !root.contains("data") || !root["data"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": field 'data' is missing or not a list"));
  }
  std::vector<QaExample> examples;
  const Json& articles = root["data"];
  for (size_t a = 0; a < articles.size(); ++a) {
    const Json& article = articles[a];
    const std::string where = absl::StrCat(path, ": data[", a, "]");
    if (!article.is_object() || !article.contains("paragraphs") || !article["paragraphs"].is_array()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": field 'paragraphs' is missing or not a list"));
    }
    auto title_field = article.find("title");
    const std::string title =
        title_field != article.end() && title_field->is_string() ? title_field->get<std::string>() : "";
    const Json& paragraphs = article["paragraphs"];
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const Json& paragraph = paragraphs[p];
      const std::string paragraph_where = absl::StrCat(where, ".paragraphs[", p, "]");
      if (!paragraph.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(paragraph_where, " is not an object"));
      }
      absl::StatusOr<std::string> context = StringField(paragraph, "context");
      if (!context.ok()) return absl::InvalidArgumentError(absl::StrCat(paragraph_where, ": ", context.status().message()));
      auto qas = paragraph.find("qas");
      if (qas == paragraph.end() || !qas->is_array()) {
        return absl::InvalidArgumentError(absl::StrCat(paragraph_where, ": field 'qas' is missing or not a list"));
      }
      const std::vector<int64_t> offsets = CodePointOffsets(*context);
      for (size_t q = 0; q < qas->size(); ++q) {
        const Json& qa = (*qas)[q];
        QaExample example;
        example.title = title;
        absl::Status status;
        std::string id_text;
        if (!qa.is_object()) {
          status = absl::InvalidArgumentError("is not an object");
        } else if (absl::StatusOr<std::string> id = StringField(qa, "id"); !id.ok()) {
          status = id.status();
        } else {
          example.id = *id;
          id_text = absl::StrCat("question ", *id);
          status = ReadQuestion(qa, *context, offsets, &example);
        }
        if (!status.ok()) {
          if (id_text.empty()) id_text = absl::StrCat("question ", q);
          std::string error = absl::StrCat(paragraph_where, ".qas[", q, "] (", id_text, "): ",
                                           status.message());
          if (!options.skip_bad_lines) return absl::InvalidArgumentError(error);
          stats->Skip(error);
          continue;
        }
        examples.push_back(std::move(example));
      }
    }
  }
  if (examples.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": no questions"));
  stats->examples += examples.size();
  total_stats->Add(file_stats);
  return examples;
}

TaskSpec SquadTaskSpec(const std::string& name) {
  TaskSpec spec;
  spec.name = name;
  spec.kind = TaskKind::kSpan;
  spec.metrics = {"exact_match", "f1"};
  return spec;
}

}  // namespace cloze::tasks
