// probes.jsonl: records by class, appended whole, read back as done (checkpoint, probe)
// pairs; a damaged line is named by file and line.
#include "probe/probe_log.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace cloze::probe {
namespace {

using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

std::string Path(const std::string& name) { return std::string(std::getenv("TEST_TMPDIR")) + "/" + name; }

TEST(ProbeLog, RecordsPerClassThenOverall) {
  ClassAccuracy accuracy;
  accuracy.Add("NOUN", true);
  accuracy.Add("NOUN", false);
  accuracy.Add("DET", true);
  const std::vector<ProbeRecord> records = RecordsOf(accuracy, {.step = 4, .checkpoint = "c", .probe = "fill"});
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[0].class_name, "DET");
  EXPECT_EQ(records[1].class_name, "NOUN");
  EXPECT_DOUBLE_EQ(records[1].accuracy, 0.5);
  EXPECT_EQ(records[1].count, 2);
  EXPECT_EQ(records[2].class_name, "overall");
  EXPECT_EQ(records[2].count, 3);
  EXPECT_EQ(records[2].step, 4);
}

TEST(ProbeLog, AppendsAndReadsBackWhatIsDone) {
  const std::string path = Path("probes.jsonl");
  absl::StatusOr<std::set<std::pair<std::string, std::string>>> done = ReadDoneProbes(path);
  ASSERT_TRUE(done.ok() && done->empty());  // no file yet
  ASSERT_TRUE(AppendRecords(path, {{.step = 2, .checkpoint = "a/step-2", .probe = "fill", .class_name = "NOUN",
                                    .accuracy = 0.25, .count = 4, .seconds = 1.5}})
                  .ok());
  ASSERT_TRUE(AppendRecords(path, {{.step = 2, .checkpoint = "a/step-2", .probe = "upos", .layer = 0,
                                    .class_name = "overall"},
                                   {.step = 2, .checkpoint = "a/step-2", .probe = "upos", .layer = 1,
                                    .class_name = "overall"}})
                  .ok());
  done = ReadDoneProbes(path);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_THAT(*done, UnorderedElementsAre(Pair("a/step-2", "fill"), Pair("a/step-2", "upos")));
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  const nlohmann::json line = nlohmann::json::parse(first);
  EXPECT_EQ(line["layer"], nullptr);
  EXPECT_EQ(line["class"], "NOUN");
  EXPECT_EQ(line["count"], 4);
  EXPECT_DOUBLE_EQ(line["seconds"].get<double>(), 1.5);
}

TEST(ProbeLog, ReadsWholeRecordsBack) {
  const std::string path = Path("whole.jsonl");
  const ProbeRecord fill{.step = 4, .checkpoint = "a/step-4", .probe = "fill", .class_name = "DET",
                         .accuracy = 0.5, .count = 6, .seconds = 2.5};
  const ProbeRecord upos{.step = 4, .checkpoint = "a/step-4", .probe = "upos", .layer = 2,
                         .class_name = "overall", .accuracy = 0.75, .count = 8, .seconds = 1};
  ASSERT_TRUE(AppendRecords(path, {fill, upos}).ok());
  absl::StatusOr<std::vector<ProbeRecord>> records = ReadProbeRecords(path);
  ASSERT_TRUE(records.ok()) << records.status();
  ASSERT_EQ(records->size(), 2u);
  const ProbeRecord& a = (*records)[0];
  const ProbeRecord& b = (*records)[1];
  EXPECT_EQ(a.step, 4);
  EXPECT_EQ(a.probe, "fill");
  EXPECT_FALSE(a.layer.has_value());
  EXPECT_EQ(a.class_name, "DET");
  EXPECT_DOUBLE_EQ(a.accuracy, 0.5);
  EXPECT_EQ(a.count, 6);
  EXPECT_EQ(b.layer, 2);
  EXPECT_DOUBLE_EQ(b.seconds, 1);
  EXPECT_TRUE(ReadProbeRecords(Path("none.jsonl"))->empty());

  const std::string partial = Path("partial.jsonl");  // ReadDoneProbes's minimum is not a record
  std::ofstream(partial) << R"({"checkpoint": "a", "probe": "fill"})" << "\n";
  const absl::Status status = ReadProbeRecords(partial).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr(partial + ":1:"));
}

TEST(ProbeLog, ADamagedLineIsDataLossNamingFileAndLine) {
  const std::string path = Path("damaged.jsonl");
  std::ofstream(path) << R"({"checkpoint": "a", "probe": "fill"})" << "\n{\"checkpoint\": \n";
  const absl::Status status = ReadDoneProbes(path).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(status.message()), HasSubstr(path + ":2:"));
}

}  // namespace
}  // namespace cloze::probe
