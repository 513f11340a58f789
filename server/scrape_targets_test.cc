#include "server/scrape_targets.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cloze {
namespace {

MemberStatus Member(Role role, int rank, const std::string& metrics_address) {
  MemberStatus member;
  member.set_role(role);
  member.set_rank(rank);
  member.set_metrics_address(metrics_address);
  return member;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(ScrapeTargetsJson, ListsTheCoordinatorAndEveryMemberThatReportedAnAddress) {
  JobStatus status;
  *status.add_members() = Member(WORKER, 0, "node-1:9401");
  *status.add_members() = Member(WORKER, 1, "");  // no heartbeat with an address yet
  *status.add_members() = Member(PARAMETER_SERVER, 0, "node-2:9403");
  const nlohmann::json groups = nlohmann::json::parse(ScrapeTargetsJson("run \"7\"", "node-0:9400", status));
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0]["targets"], nlohmann::json::array({"node-0:9400"}));
  EXPECT_EQ(groups[0]["labels"], nlohmann::json({{"run", "run \"7\""}, {"role", "coordinator"}, {"rank", "0"}}));
  EXPECT_EQ(groups[1]["targets"], nlohmann::json::array({"node-1:9401"}));
  EXPECT_EQ(groups[1]["labels"], nlohmann::json({{"run", "run \"7\""}, {"role", "worker"}, {"rank", "0"}}));
  EXPECT_EQ(groups[2]["targets"], nlohmann::json::array({"node-2:9403"}));
  EXPECT_EQ(groups[2]["labels"]["role"], "ps");
}

TEST(ScrapeTargetsJson, IsAnEmptyListWithoutEndpoints) {
  EXPECT_EQ(nlohmann::json::parse(ScrapeTargetsJson("run", "", JobStatus())), nlohmann::json::array());
}

TEST(ScrapeTargetsFile, WritesOnlyWhenTheTargetsChange) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/written";
  std::filesystem::create_directories(dir);
  ScrapeTargetsFile file(dir, "run", "127.0.0.1:9400");
  JobStatus status;
  *status.add_members() = Member(WORKER, 0, "127.0.0.1:9401");
  ASSERT_TRUE(file.Update(status).ok());
  EXPECT_EQ(file.path(), dir + "/prometheus_targets.json");
  EXPECT_EQ(ReadFile(file.path()), ScrapeTargetsJson("run", "127.0.0.1:9400", status));

  // The same targets (other figures aside): the file is left alone.
  std::filesystem::remove(file.path());
  status.mutable_members(0)->set_step(10);
  ASSERT_TRUE(file.Update(status).ok());
  EXPECT_FALSE(std::filesystem::exists(file.path()));

  // A worker restarted on another port: rewritten, with no temporary file left behind.
  status.mutable_members(0)->set_metrics_address("127.0.0.1:9501");
  ASSERT_TRUE(file.Update(status).ok());
  EXPECT_NE(ReadFile(file.path()).find("127.0.0.1:9501"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(file.path() + ".tmp"));
}

TEST(ScrapeTargetsFile, AFailedWriteNamesThePathAndIsRetried) {
  const std::string dir = std::string(std::getenv("TEST_TMPDIR")) + "/not-yet";
  std::filesystem::remove_all(dir);
  ScrapeTargetsFile file(dir, "run", "127.0.0.1:9400");
  const absl::Status failed = file.Update(JobStatus());
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find(dir + "/prometheus_targets.json"), std::string::npos) << failed;
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(file.Update(JobStatus()).ok());  // the same text, written this time
  EXPECT_TRUE(std::filesystem::exists(file.path()));
}

}  // namespace
}  // namespace cloze
