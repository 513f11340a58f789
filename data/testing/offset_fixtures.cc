#include "data/testing/offset_fixtures.h"

#include "data/testing/fixture_records.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace cloze::data::testing {
namespace {

using json = nlohmann::json;

std::string Describe(const Tokenizer& tokenizer, const std::string& text, const TokenSpan& t) {
  const bool valid = t.begin <= t.end && t.end <= text.size();
  return absl::StrCat(t.id, "=", tokenizer.IdToPiece(t.id), "@[", t.begin, ",", t.end, ")\"",
                      valid ? text.substr(t.begin, t.end - t.begin) : "?", "\"");
}

// Tokens around the first difference, so that a failure is readable.
std::string DescribeDifference(const Tokenizer& tokenizer, const std::string& text,
                               const std::vector<TokenSpan>& want, const std::vector<TokenSpan>& got) {
  return FirstDifference<TokenSpan>(want, got, "token", 2, 3,
                                    [&](const TokenSpan& t) { return Describe(tokenizer, text, t); });
}

}  // namespace

absl::StatusOr<std::vector<OffsetFixtureCase>> ReadOffsetFixtures(const std::string& path) {
  std::vector<OffsetFixtureCase> cases;
  const absl::Status walked = ForEachFixtureRecord(path, [&](const json& record, const BadRecord& bad) -> absl::Status {
    OffsetFixtureCase c;
    c.source = record["source"].get<std::string>();
    c.text = record["text"].get<std::string>();
    for (const char* reference : {"albert", "bert"}) {
      if (!record.contains(reference) || !record[reference].is_object()) {
        return bad(absl::StrCat("no \"", reference, "\" object"));
      }
      const json& r = record[reference];
      if (!r.contains("ids") || !r["ids"].is_array()) return bad(absl::StrCat(reference, ".ids: not an array"));
      if (!r.contains("spans")) return bad(absl::StrCat(reference, ".spans: missing"));
      if (r["spans"].is_null()) {
        c.tokens[reference] = std::nullopt;
        continue;
      }
      const auto ids = r["ids"].get<std::vector<int32_t>>();
      const json& spans = r["spans"];
      if (!spans.is_array() || spans.size() != ids.size()) {
        return bad(absl::StrCat(reference, ".spans: not an array as long as ids"));
      }
      std::vector<TokenSpan> tokens;
      for (size_t i = 0; i < ids.size(); ++i) {
        if (!spans[i].is_array() || spans[i].size() != 2) {
          return bad(absl::StrCat(reference, ".spans[", i, "]: not [begin, end]"));
        }
        tokens.push_back({ids[i], spans[i][0].get<size_t>(), spans[i][1].get<size_t>()});
      }
      c.tokens[reference] = std::move(tokens);
    }
    if (record.contains("differs")) c.differs = record["differs"].get<std::map<std::string, std::string>>();
    cases.push_back(std::move(c));
    return absl::OkStatus();
  });
  if (!walked.ok()) return walked;
  return cases;
}

std::vector<std::string> CompareOffsetsWithFixtures(const Tokenizer& tokenizer,
                                                    const std::vector<OffsetFixtureCase>& cases,
                                                    const std::string& reference) {
  std::vector<std::string> failures;
  std::map<std::string, std::pair<int, int>> counts;  // source -> (matches, cases)
  int without_reference = 0;
  for (const OffsetFixtureCase& c : cases) {
    const std::string shown = c.text.size() > 60 ? c.text.substr(0, 60) + "..." : c.text;
    auto fail = [&](const std::string& why) {
      failures.push_back(absl::StrCat(c.source, " \"", shown, "\": ", why));
    };
    const std::vector<TokenSpan> got = tokenizer.EncodeWithOffsets(c.text);
    std::vector<int32_t> got_ids;
    for (const TokenSpan& t : got) got_ids.push_back(t.id);
    if (got_ids != tokenizer.Encode(c.text)) fail("EncodeWithOffsets' ids are not Encode's");

    const auto& want = c.tokens.at(reference);
    if (!want.has_value()) {
      ++without_reference;
      if (!c.differs.contains(reference)) fail("no spans, and no reason given");
      continue;
    }
    auto& [matches, total] = counts[c.source];
    ++total;
    if (got == *want) {
      ++matches;
    } else {
      fail(DescribeDifference(tokenizer, c.text, *want, got));
    }
  }
  for (const auto& [source, count] : counts) {
    std::printf("EncodeWithOffsets vs %s: %d/%d exact matches (ids and spans) on %s\n",
                reference.c_str(), count.first, count.second, source.c_str());
  }
  if (without_reference > 0) {
    std::printf("  plus %d case(s) where the reference's ids are not cloze's\n", without_reference);
  }
  return failures;
}

}  // namespace cloze::data::testing
