#include "tasks/testing/test_files.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/status/statusor.h"
#include "data/testing/shared_data.h"
#include "gtest/gtest.h"

namespace cloze::tasks::testing {

std::string SharedFile(const std::string& relative) {
  absl::StatusOr<std::string> path = data::testing::SharedDataPath(relative);
  if (!path.ok()) {
    ADD_FAILURE() << path.status();
    return "";
  }
  return *path;
}

std::string SourceFile(const std::string& relative) {
  const char* runfiles = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return std::string(runfiles ? runfiles : ".") + "/" + (workspace ? workspace : "cloze") + "/" +
         relative;
}

std::string WriteTempFile(const std::string& name, const std::string& contents) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::filesystem::path path = std::filesystem::path(tmp ? tmp : "/tmp") / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  return path.string();
}

}  // namespace cloze::tasks::testing
