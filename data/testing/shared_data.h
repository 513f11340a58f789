// Where tests find the corpora and vocabularies of shared/data (see
// third_party/shared_data/shared_data.bzl): the test names a filegroup of @shared_data as a
// data dependency and asks for the file here.
#ifndef CLOZE_DATA_TESTING_SHARED_DATA_H_
#define CLOZE_DATA_TESTING_SHARED_DATA_H_

#include <string>

#include "absl/status/statusor.h"

namespace cloze::data::testing {

// The runfiles path of shared/data/`relative`, e.g. "vocab/bert-base-uncased-vocab.txt".
// NotFound, naming the folder that was searched and how to point elsewhere, when the file is
// absent: CI always has shared/data, so a test must fail rather than skip without it.
absl::StatusOr<std::string> SharedDataPath(const std::string& relative);

}  // namespace cloze::data::testing

#endif  // CLOZE_DATA_TESTING_SHARED_DATA_H_
