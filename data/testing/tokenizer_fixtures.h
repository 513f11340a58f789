// The committed reference ids of data/testdata/tokenizer_fixtures.jsonl (written by
// make_tokenizer_fixtures.py) and their comparison with a cloze tokenizer.
#ifndef CLOZE_DATA_TESTING_TOKENIZER_FIXTURES_H_
#define CLOZE_DATA_TESTING_TOKENIZER_FIXTURES_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"

namespace cloze::data::testing {

struct FixtureCase {
  std::string source;  // "wikitext-2", "cmrc2018", "hongloumeng", "tricky"
  std::string text;
  // By reference: "spm", "albert", "albert_spm", "albert_google", "bert" (see the generator).
  std::map<std::string, std::vector<int32_t>> ids;
  std::map<std::string, std::string> differs;  // reference -> why cloze differs on purpose
};

// The cases of the fixture file (its first line is metadata). Errors name the file and line.
absl::StatusOr<std::vector<FixtureCase>> ReadTokenizerFixtures(const std::string& path);

// Encodes every case with `tokenizer` and compares with `reference`'s ids. Prints the match
// counts per source. Returns one line per failure: a mismatch, or a case marked as
// deliberately different that matches (the mark is stale).
std::vector<std::string> CompareWithFixtures(const Tokenizer& tokenizer,
                                             const std::vector<FixtureCase>& cases,
                                             const std::string& reference);

// Encodes `texts` on `threads` threads at once, each starting at a different text and going
// round `rounds` times, and compares every result with a single-threaded Encode first.
// Returns the number of differing results (0 for a thread-safe tokenizer).
int CountConcurrentEncodeDifferences(const Tokenizer& tokenizer,
                                     const std::vector<std::string>& texts, int threads,
                                     int rounds);

}  // namespace cloze::data::testing

#endif  // CLOZE_DATA_TESTING_TOKENIZER_FIXTURES_H_
