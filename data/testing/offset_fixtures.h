// The committed reference ids and spans of data/testdata/offset_fixtures.jsonl (written by
// data/testing/generate_offset_fixtures.py) and their comparison with EncodeWithOffsets.
#ifndef CLOZE_DATA_TESTING_OFFSET_FIXTURES_H_
#define CLOZE_DATA_TESTING_OFFSET_FIXTURES_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"

namespace cloze::data::testing {

struct OffsetFixtureCase {
  std::string source;  // "wikitext-2", "squad", "cmrc2018", "tricky"
  std::string text;
  // By reference ("albert", "bert"): the tokens, or nullopt where the reference's ids are
  // not cloze's and so it has no spans for them (`differs` says why).
  std::map<std::string, std::optional<std::vector<TokenSpan>>> tokens;
  std::map<std::string, std::string> differs;
};

// The cases of the fixture file (its first line is metadata). Errors name the file, line and
// field.
absl::StatusOr<std::vector<OffsetFixtureCase>> ReadOffsetFixtures(const std::string& path);

// Runs EncodeWithOffsets and Encode on every case and compares with `reference`. Returns one
// line per failure: EncodeWithOffsets' ids differ from Encode's, or ids or spans from the
// reference's, or a case marked as differing has spans after all. Prints counts per source.
std::vector<std::string> CompareOffsetsWithFixtures(const Tokenizer& tokenizer,
                                                    const std::vector<OffsetFixtureCase>& cases,
                                                    const std::string& reference);

}  // namespace cloze::data::testing

#endif  // CLOZE_DATA_TESTING_OFFSET_FIXTURES_H_
