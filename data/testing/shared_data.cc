#include "data/testing/shared_data.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace cloze::data::testing {

absl::StatusOr<std::string> SharedDataPath(const std::string& relative) {
  const char* runfiles = std::getenv("TEST_SRCDIR");
  if (runfiles == nullptr) {
    return absl::FailedPreconditionError("TEST_SRCDIR is not set: run the test with bazel test");
  }
  const std::string repository = absl::StrCat(runfiles, "/shared_data/");
  const std::string path = repository + relative;
  if (std::filesystem::is_regular_file(path)) return path;
  std::ifstream source_file(repository + "SOURCE");
  std::string source = "(unknown: is @shared_data//:... a data dependency of the test?)";
  std::getline(source_file, source);
  return absl::NotFoundError(absl::StrCat(
      "shared data file ", relative, " not found in ", source,
      " (shared/data beside the checkout; set CLOZE_SHARED_DATA=/path/to/shared/data to use "
      "another folder)"));
}

}  // namespace cloze::data::testing
