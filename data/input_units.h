// Input units: the pieces of an input that `cloze prepare` can build independently, and how
// a split preparation (`--part=i --parts=N`) hands them out.
//
// The sorted input files (document_source.h) are cut into runs of consecutive files: a unit
// closes at the first file boundary where it holds at least `unit_bytes` of input. Units
// depend on the file list, the file sizes and `unit_bytes` only, never on the number of
// parts, so every part computes the same units without reading any file, and a dataset built
// unit by unit on N machines equals the one built on one (example_pipeline.h: a unit's
// examples depend on its own files only). A file is never split: one large file is one unit.
#ifndef CLOZE_DATA_INPUT_UNITS_H_
#define CLOZE_DATA_INPUT_UNITS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "data/document_source.h"

namespace cloze::data {

// 64 MiB: 64 blocks of the example pipeline, so a unit boundary closing a block early
// changes little; a corpus of billions of words has thousands of units.
inline constexpr int64_t kDefaultUnitBytes = int64_t{64} << 20;

struct InputUnits {
  std::vector<std::string> files;    // every input file, in reading order
  std::vector<int64_t> file_bytes;   // their sizes
  std::vector<int64_t> file_units;   // the unit of each file: 0, 0, 1, 1, 1, 2, ...
  int64_t unit_count = 0;
  // SHA-256 over the files' paths and sizes, `unit_bytes` and the reading options: parts
  // of one preparation agree on it, a part of another input does not.
  std::string fingerprint;
};

// Units of `files` (already expanded and sorted: DocumentSource::files()). Errors: a file
// whose size cannot be read (named), unit_bytes < 1.
absl::StatusOr<InputUnits> PlanInputUnits(const std::vector<std::string>& files, const SourceOptions& source,
                                          int64_t unit_bytes);

// The units [first_unit, end_unit) and files [first_file, end_file) of part `part` of
// `parts`: consecutive units, counts differing by at most one, earlier parts first. A
// part may be empty when there are fewer units than parts. Requires 0 <= part < parts.
struct PartSlice {
  int64_t first_unit = 0, end_unit = 0;
  size_t first_file = 0, end_file = 0;
};
PartSlice SliceForPart(const InputUnits& units, int part, int parts);

}  // namespace cloze::data

#endif  // CLOZE_DATA_INPUT_UNITS_H_
