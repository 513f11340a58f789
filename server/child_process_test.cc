// Which descriptors a child keeps: a descriptor the supervisor opened without O_CLOEXEC (as
// `cloze launch` holds run.lock) reaches a child started kInherited and not one started
// kStandardOnly, which still writes its output to the log and still reports a program that
// cannot start.
#include "server/child_process.h"

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace cloze {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The targets of the descriptors `ls` finds open in itself, started as a child as `descriptors`
// says while this process holds `held` open without O_CLOEXEC.
std::string ChildDescriptorListing(const std::string& held, ChildDescriptors descriptors, const std::string& name) {
  const int fd = open(held.c_str(), O_RDWR | O_CREAT, 0644);
  EXPECT_GE(fd, 0) << held;
  const std::string log = absl::StrCat(testing::TempDir(), "/", name, ".log");
  absl::StatusOr<ChildProcess> child = ChildProcess::Start({"ls", "-l", "/proc/self/fd/"}, log, {}, descriptors);
  EXPECT_TRUE(child.ok()) << child.status();
  int status = -1;
  for (int i = 0; i < 1000 && child.ok(); ++i) {
    if (std::optional<int> s = child->Poll(); s.has_value()) {
      status = *s;
      break;
    }
    usleep(10000);
  }
  close(fd);
  EXPECT_EQ(status, 0) << ReadAll(log);
  return ReadAll(log);
}

// The listing shows the held file's canonical path; its name is enough to find it.
TEST(ChildProcess, InheritedDescriptorsReachTheChild) {
  const std::string held = absl::StrCat(testing::TempDir(), "/inherited.lock");
  const std::string listing = ChildDescriptorListing(held, ChildDescriptors::kInherited, "inherited");
  EXPECT_NE(listing.find("/inherited.lock"), std::string::npos) << listing;
}

TEST(ChildProcess, StandardOnlyLeavesThemBehind) {
  const std::string held = absl::StrCat(testing::TempDir(), "/standard_only.lock");
  const std::string listing = ChildDescriptorListing(held, ChildDescriptors::kStandardOnly, "standard_only");
  EXPECT_EQ(listing.find("/standard_only.lock"), std::string::npos) << listing;
  EXPECT_NE(listing.find("standard_only.log"), std::string::npos) << "stdout is the log: " << listing;
}

TEST(ChildProcess, StandardOnlyStillReportsAProgramThatCannotStart) {
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(
      {"/nonexistent/program"}, absl::StrCat(testing::TempDir(), "/missing.log"), {}, ChildDescriptors::kStandardOnly);
  ASSERT_FALSE(child.ok());
  EXPECT_NE(child.status().message().find("cannot start /nonexistent/program"), std::string::npos) << child.status();
}

}  // namespace
}  // namespace cloze
