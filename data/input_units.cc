#include "data/input_units.h"

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "data/shard_hash.h"

namespace cloze::data {

absl::StatusOr<InputUnits> PlanInputUnits(const std::vector<std::string>& files, const SourceOptions& source,
                                          int64_t unit_bytes) {
  if (unit_bytes < 1) return absl::InvalidArgumentError(absl::StrCat("unit bytes: ", unit_bytes, " is below 1"));
  InputUnits units;
  units.files = files;
  std::string identity = absl::StrCat("units of ", unit_bytes, " bytes; format ", source.format, "; chapters ",
                                      source.chapters, "; max line ", source.max_line_bytes, "; max document ",
                                      source.max_document_bytes, "\n");
  int64_t unit = 0, bytes_in_unit = 0;
  for (const std::string& file : files) {
    std::error_code error;
    const uintmax_t size = std::filesystem::file_size(file, error);
    if (error) return absl::NotFoundError(absl::StrCat(file, ": cannot read its size: ", error.message()));
    if (bytes_in_unit >= unit_bytes) {
      ++unit;
      bytes_in_unit = 0;
    }
    bytes_in_unit += static_cast<int64_t>(size);
    units.file_bytes.push_back(static_cast<int64_t>(size));
    units.file_units.push_back(unit);
    absl::StrAppend(&identity, file.size(), ":", file, " ", size, "\n");
  }
  units.unit_count = files.empty() ? 0 : unit + 1;
  units.fingerprint = Sha256Hex(identity);
  return units;
}

PartSlice SliceForPart(const InputUnits& units, int part, int parts) {
  PartSlice slice;
  slice.first_unit = units.unit_count * part / parts;
  slice.end_unit = units.unit_count * (part + 1) / parts;
  slice.first_file = units.files.size();
  slice.end_file = units.files.size();
  for (size_t f = 0; f < units.files.size(); ++f) {
    if (units.file_units[f] >= slice.first_unit && slice.first_file == units.files.size()) slice.first_file = f;
    if (units.file_units[f] >= slice.end_unit) {
      slice.end_file = f;
      break;
    }
  }
  if (slice.first_file > slice.end_file) slice.first_file = slice.end_file;
  return slice;
}

}  // namespace cloze::data
