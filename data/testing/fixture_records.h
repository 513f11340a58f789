// What the tokenizer fixture readers share: the JSON Lines walk (a metadata line skipped,
// every case an object with "source" and "text" strings, errors naming file and line) and a
// readable window around the first difference of two token sequences.
#ifndef CLOZE_DATA_TESTING_FIXTURE_RECORDS_H_
#define CLOZE_DATA_TESTING_FIXTURE_RECORDS_H_

#include <algorithm>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace cloze::data::testing {

// Makes the DataLoss error "PATH:LINE: why" of the record being read.
using BadRecord = std::function<absl::Status(const std::string& why)>;

// Calls `read(record, bad)` for each case line of the JSON Lines file at `path` (lines with a
// "meta" key are skipped); stops at the first error, of the walk or of `read`. NotFound when
// the file cannot be opened, DataLoss when it holds no case.
inline absl::Status ForEachFixtureRecord(
    const std::string& path, const std::function<absl::Status(const nlohmann::json&, const BadRecord&)>& read) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::string line;
  int cases = 0;
  for (int number = 1; std::getline(file, line); ++number) {
    const nlohmann::json record = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    const BadRecord bad = [&](const std::string& why) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": ", why));
    };
    if (record.is_discarded() || !record.is_object()) return bad("not a JSON object");
    if (record.contains("meta")) continue;
    if (!record.contains("source") || !record["source"].is_string() || !record.contains("text") ||
        !record["text"].is_string()) {
      return bad("no source or text string");
    }
    if (absl::Status s = read(record, bad); !s.ok()) return s;
    ++cases;
  }
  if (cases == 0) return absl::DataLossError(absl::StrCat(path, ": no cases"));
  return absl::OkStatus();
}

// "first difference at <what> i (lengths a vs b): want ... | got ...", showing `before`
// elements before the first difference and `after` from it, each through `describe`.
template <typename T>
std::string FirstDifference(const std::vector<T>& want, const std::vector<T>& got, const char* what, size_t before,
                            size_t after, const std::function<std::string(const T&)>& describe) {
  size_t first = 0;
  while (first < want.size() && first < got.size() && want[first] == got[first]) ++first;
  auto window = [&](const std::vector<T>& items) {
    std::vector<std::string> parts;
    for (size_t i = first >= before ? first - before : 0; i < std::min(items.size(), first + after); ++i) {
      parts.push_back(describe(items[i]));
    }
    return absl::StrJoin(parts, " ");
  };
  return absl::StrCat("first difference at ", what, " ", first, " (lengths ", want.size(), " vs ", got.size(),
                      "): want ", window(want), " | got ", window(got));
}

}  // namespace cloze::data::testing

#endif  // CLOZE_DATA_TESTING_FIXTURE_RECORDS_H_
