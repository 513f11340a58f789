#include "data/testing/tokenizer_fixtures.h"

#include "data/testing/fixture_records.h"

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
  return FirstDifference<int32_t>(want, got, "id", 3, 5,
                                  [&](const int32_t& id) { return absl::StrCat(id, "=", tokenizer.IdToPiece(id)); });
}

}  // namespace

absl::StatusOr<std::vector<FixtureCase>> ReadTokenizerFixtures(const std::string& path) {
  std::vector<FixtureCase> cases;
  const absl::Status walked = ForEachFixtureRecord(path, [&](const json& record, const BadRecord& bad) -> absl::Status {
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
    return absl::OkStatus();
  });
  if (!walked.ok()) return walked;
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
