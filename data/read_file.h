// Whole-file reads for the small files of the data pipeline (vocabularies, models).
#ifndef CLOZE_DATA_READ_FILE_H_
#define CLOZE_DATA_READ_FILE_H_

#include <string>

#include "absl/status/statusor.h"

namespace cloze::data {

// The bytes of the file at `path`. NotFound when it cannot be opened (missing, a folder,
// no permission), DataLoss when reading fails midway; both messages name the path.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace cloze::data

#endif  // CLOZE_DATA_READ_FILE_H_
