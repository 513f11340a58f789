#include "tasks/conllu.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "tasks/task_file.h"

namespace cloze::tasks {
namespace {

constexpr int kColumns = 10;
constexpr int kFormColumn = 1, kUposColumn = 3, kXposColumn = 4, kHeadColumn = 6, kDeprelColumn = 7;

// A sentence being assembled, or being dropped after a bad line.
struct Pending {
  TaggedSentence sentence;
  std::vector<int64_t> word_lines;  // each word's line, for a HEAD outside the sentence
  bool bad = false;
};

// HEAD: `_` (-1, not annotated) or a non-negative integer; whether it names a word of the
// sentence is checked when the sentence is complete.
bool ParseHead(absl::string_view text, int* head) {
  if (text == "_") {
    *head = -1;
    return true;
  }
  return !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos &&
         absl::SimpleAtoi(text, head);
}

// The line of the first word whose head is not a word of its sentence, or 0.
int64_t FirstHeadOutside(const Pending& pending) {
  const int words = pending.sentence.words.size();
  for (int i = 0; i < words; ++i) {
    if (pending.sentence.heads[i] > words) return pending.word_lines[i];
  }
  return 0;
}

// What a token line is: a word (with its ID), or a line to skip.
enum class TokenKind { kWord, kMultiword, kEmptyNode };

absl::StatusOr<TokenKind> ParseId(absl::string_view id, int* word_id) {
  auto positive = [](absl::string_view text, int* value) {
    return absl::SimpleAtoi(text, value) && *value > 0 && !text.empty() &&
           text.find_first_not_of("0123456789") == absl::string_view::npos;
  };
  int first, second;
  if (positive(id, word_id)) return TokenKind::kWord;
  std::vector<absl::string_view> range = absl::StrSplit(id, '-');
  if (range.size() == 2 && positive(range[0], &first) && positive(range[1], &second)) {
    return TokenKind::kMultiword;
  }
  std::vector<absl::string_view> decimal = absl::StrSplit(id, '.');
  if (decimal.size() == 2 && (decimal[0] == "0" || positive(decimal[0], &first)) &&
      positive(decimal[1], &second)) {
    return TokenKind::kEmptyNode;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("column 1 (ID): '", id, "' is not a word ID, range or decimal"));
}

}  // namespace

absl::StatusOr<std::vector<TaggedSentence>> ReadConllu(const std::string& path, PosTagSet tag_set,
                                                       const ReadOptions& options,
                                                       ReadStats* total_stats) {
  ReadStats file_stats;  // added to *total_stats on success only
  ReadStats* stats = &file_stats;
  absl::StatusOr<std::string> text = ReadTaskFile(path);
  if (!text.ok()) return text.status();
  const int tag_column = tag_set == PosTagSet::kUpos ? kUposColumn : kXposColumn;
  const char* tag_name = tag_set == PosTagSet::kUpos ? "column 4 (UPOS)" : "column 5 (XPOS)";

  std::vector<TaggedSentence> sentences;
  Pending pending;
  // Ends the pending sentence; an error (or a skip) for a HEAD outside it.
  auto finish = [&]() -> absl::Status {
    if (const int64_t line = pending.bad ? 0 : FirstHeadOutside(pending); line > 0) {
      const std::string error = absl::StrCat(path, ":", line, ": column 7 (HEAD) is beyond the sentence's ",
                                             pending.sentence.words.size(), " words");
      if (!options.skip_bad_lines) return absl::InvalidArgumentError(error);
      stats->Skip(error);
      pending.bad = true;
    }
    if (!pending.sentence.words.empty() && !pending.bad) {
      sentences.push_back(std::move(pending.sentence));
    }
    pending = Pending{};
    return absl::OkStatus();
  };

  std::vector<absl::string_view> lines = absl::StrSplit(StripUtf8Bom(*text), '\n');
  if (!lines.empty() && lines.back().empty()) lines.pop_back();  // the last line's end
  for (size_t i = 0; i < lines.size(); ++i) {
    const int64_t line_number = i + 1;
    absl::string_view line = lines[i];
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    ++stats->lines;
    if (line.empty()) {
      if (absl::Status s = finish(); !s.ok()) return s;
      continue;
    }
    if (line[0] == '#') {
      absl::string_view comment = line.substr(1);
      absl::ConsumePrefix(&comment, " ");
      if (absl::ConsumePrefix(&comment, "sent_id")) {
        comment = absl::StripLeadingAsciiWhitespace(comment);
        if (absl::ConsumePrefix(&comment, "=")) {
          pending.sentence.id = std::string(absl::StripAsciiWhitespace(comment));
        }
      }
      continue;
    }

    std::string error;
    std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
    int word_id = 0, head = -1;
    absl::StatusOr<TokenKind> kind = TokenKind::kWord;
    if (fields.size() != kColumns) {
      error = absl::StrCat("expected ", kColumns, " tab-separated columns, found ", fields.size());
    } else if (kind = ParseId(fields[0], &word_id); !kind.ok()) {
      error = std::string(kind.status().message());
    } else if (*kind == TokenKind::kWord) {
      const int expected = pending.sentence.words.size() + 1;
      if (word_id != expected && !pending.bad) {
        error = absl::StrCat("column 1 (ID): word ", word_id, " where word ", expected,
                             " was due (missing blank line between sentences?)");
      } else if (fields[kFormColumn].empty()) {
        error = "column 2 (FORM) is empty";
      } else if (fields[tag_column].empty()) {
        error = absl::StrCat(tag_name, " is empty");
      } else if (!ParseHead(fields[kHeadColumn], &head)) {
        error = absl::StrCat("column 7 (HEAD): '", fields[kHeadColumn], "' is neither _ nor a word number");
      }
    }
    if (!error.empty()) {
      error = absl::StrCat(path, ":", line_number, ": ", error);
      if (!options.skip_bad_lines) return absl::InvalidArgumentError(error);
      stats->Skip(error);
      pending.bad = true;
      continue;
    }
    if (*kind != TokenKind::kWord) continue;
    if (pending.sentence.words.empty()) pending.sentence.line = line_number;
    pending.sentence.words.emplace_back(fields[kFormColumn]);
    pending.sentence.tags.emplace_back(fields[tag_column]);
    pending.sentence.heads.push_back(head);
    pending.sentence.relations.emplace_back(fields[kDeprelColumn]);
    pending.word_lines.push_back(line_number);
  }
  if (absl::Status s = finish(); !s.ok()) return s;
  if (sentences.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no sentences"));
  }
  stats->examples += sentences.size();
  total_stats->Add(file_stats);
  return sentences;
}

absl::StatusOr<std::string> FindTreebankFile(const std::string& dir, const std::string& split) {
  const std::string suffix = absl::StrCat("-ud-", split, ".conllu");
  std::vector<std::string> found;
  std::error_code error;
  for (const std::filesystem::directory_entry& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, suffix) || absl::EndsWith(name, suffix + ".xz")) found.push_back(entry.path().string());
  }
  if (error) return absl::NotFoundError(absl::StrCat(dir, ": ", error.message()));
  std::sort(found.begin(), found.end());
  if (found.empty()) {
    return absl::NotFoundError(absl::StrCat(dir, ": no file *", suffix, "[.xz] (the ", split, " split of a UD treebank)"));
  }
  if (found.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat(dir, ": several ", split, " files (", absl::StrJoin(found, ", "), ")"));
  }
  return found.front();
}

std::vector<std::string> UniversalPosTags() {
  return {"ADJ",  "ADP",  "ADV",   "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM",
          "PART", "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"};
}

std::vector<std::string> CollectTags(const std::vector<TaggedSentence>& sentences) {
  std::set<std::string> tags;
  for (const TaggedSentence& sentence : sentences) tags.insert(sentence.tags.begin(), sentence.tags.end());
  return std::vector<std::string>(tags.begin(), tags.end());
}

TaskSpec TaggingTaskSpec(const std::string& name, std::vector<std::string> tags) {
  TaskSpec spec;
  spec.name = name;
  spec.kind = TaskKind::kTagging;
  spec.labels = std::move(tags);
  spec.metrics = {"accuracy"};
  return spec;
}

}  // namespace cloze::tasks
