#include "data/testing/tokenizer_fixtures.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"

namespace cloze::data::testing {
namespace {

using json = nlohmann::json;

// Ids around the first difference, with their pieces, so a failure is readable.
std::string DescribeDifference(const Tokenizer& tokenizer, const std::vector<int32_t>& want,
                               const std::vector<int32_t>& got) {
  size_t first = 0;
  while (first < want.size() && first < got.size() && want[first] == got[first]) ++first;
  auto window = [&](const std::vector<int32_t>& ids) {
    std::vector<std::string> parts;
    for (size_t i = first >= 3 ? first - 3 : 0; i < std::min(ids.size(), first + 5); ++i) {
      parts.push_back(absl::StrCat(ids[i], "=", tokenizer.IdToPiece(ids[i])));
    }
    return absl::StrJoin(parts, " ");
  };
  return absl::StrCat("first difference at id ", first, " (lengths ", want.size(), " vs ",
                      got.size(), "): want ", window(want), " | got ", window(got));
}

}  // namespace

absl::StatusOr<std::vector<FixtureCase>> ReadTokenizerFixtures(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::vector<FixtureCase> cases;
  std::string line;
  for (int number = 1; std::getline(file, line); ++number) {
    const json record = json::parse(line, nullptr, /*allow_exceptions=*/false);
    auto bad = [&](absl::string_view why) {
      return absl::DataLossError(absl::StrCat(path, ":", number, ": ", why));
    };
    if (record.is_discarded() || !record.is_object()) return bad("not a JSON object");
    if (record.contains("meta")) continue;
    if (!record.contains("source") || !record.contains("text")) return bad("no source or text");
    FixtureCase c;
    c.source = record["source"].get<std::string>();
    c.text = record["text"].get<std::string>();
    for (const char* reference : {"spm", "albert", "bert"}) {
      if (!record.contains(reference) || !record[reference].is_array()) {
        return bad(absl::StrCat("no ", reference, " ids"));
      }
      c.ids[reference] = record[reference].get<std::vector<int32_t>>();
    }
    // Written only where they differ from the reference they default to.
    for (auto [reference, fallback] :
         {std::pair{"albert_spm", "albert"}, std::pair{"albert_google", "albert_spm"}}) {
      c.ids[reference] = record.contains(reference) ? record[reference].get<std::vector<int32_t>>()
                                                    : c.ids[fallback];
    }
    if (record.contains("differs"))
      c.differs = record["differs"].get<std::map<std::string, std::string>>();
    cases.push_back(std::move(c));
  }
  if (cases.empty()) return absl::DataLossError(absl::StrCat(path, ": no cases"));
  return cases;
}

std::vector<std::string> CompareWithFixtures(const Tokenizer& tokenizer,
                                             const std::vector<FixtureCase>& cases,
                                             const std::string& reference) {
  std::vector<std::string> failures;
  std::map<std::string, std::pair<int, int>> counts;  // source -> (matches, cases)
  int deliberate = 0;
  for (const FixtureCase& c : cases) {
    const std::vector<int32_t>& want = c.ids.at(reference);
    const std::vector<int32_t> got = tokenizer.Encode(c.text);
    const auto differs = c.differs.find(reference);
    const std::string shown = c.text.size() > 80 ? c.text.substr(0, 80) + "..." : c.text;
    if (differs != c.differs.end()) {
      ++deliberate;
      if (got == want) {
        failures.push_back(absl::StrCat(c.source, " \"", shown, "\": marked as differing (",
                                        differs->second, ") but matches; remove the mark"));
      }
      continue;
    }
    auto& [matches, total] = counts[c.source];
    ++total;
    if (got == want) {
      ++matches;
    } else {
      failures.push_back(
          absl::StrCat(c.source, " \"", shown, "\": ", DescribeDifference(tokenizer, want, got)));
    }
  }
  const std::string fingerprint = tokenizer.Fingerprint();
  const std::string kind = fingerprint.substr(0, fingerprint.find(":sha256"));
  for (const auto& [source, count] : counts) {
    std::printf("%s vs reference %s: %d/%d exact matches on %s\n", kind.c_str(), reference.c_str(),
                count.first, count.second, source.c_str());
  }
  if (deliberate > 0) std::printf("  plus %d case(s) where cloze differs on purpose\n", deliberate);
  return failures;
}

int CountConcurrentEncodeDifferences(const Tokenizer& tokenizer,
                                     const std::vector<std::string>& texts, int threads,
                                     int rounds) {
  std::vector<std::vector<int32_t>> want;
  for (const std::string& text : texts) want.push_back(tokenizer.Encode(text));
  std::atomic<int> differences{0};
  std::atomic<int> ready{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      // Start together, so that the encodes overlap even on a small machine.
      ready.fetch_add(1);
      while (ready.load() < threads) std::this_thread::yield();
      for (size_t i = 0; i < rounds * texts.size(); ++i) {
        const size_t k = (i + t * texts.size() / threads) % texts.size();
        if (tokenizer.Encode(texts[k]) != want[k]) differences.fetch_add(1);
      }
    });
  }
  for (std::thread& thread : pool) thread.join();
  return differences.load();
}

}  // namespace cloze::data::testing
