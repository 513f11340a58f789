// Submission files for the real GLUE test splits in shared/data and the fixtures of the
// others: names, header, one line per test example with the file's own index, labels as the
// task spells them.
#include "tasks/glue_submission.h"

#include <vector>

#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tasks/glue_tasks.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks {
namespace {

using testing::SharedFile;
using testing::SourceFile;

TEST(GlueSubmissionFileName, AsTheServerNamesThem) {
  EXPECT_EQ(*GlueSubmissionFileName("sst2", "test"), "SST-2.tsv");
  EXPECT_EQ(*GlueSubmissionFileName("STS-B", "test"), "STS-B.tsv");
  EXPECT_EQ(*GlueSubmissionFileName("mnli", "test_matched"), "MNLI-m.tsv");
  EXPECT_EQ(*GlueSubmissionFileName("MNLI", "test_mismatched"), "MNLI-mm.tsv");
  EXPECT_EQ(GlueSubmissionFileName("RTE", "dev").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GlueSubmissionFileName("MNLI", "test").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GlueSubmissionFileName("SQuAD", "test").status().code(), absl::StatusCode::kInvalidArgument);
}

struct TestSplit {
  std::string task, file;  // file: under shared/data, or a fixture under tasks/testdata
  bool shared;
  std::string split = "test";
};

// Every test split at hand gets a file whose indices are the test file's, in order.
TEST(GlueSubmissionText, OneLinePerTestExampleWithItsIndex) {
  const std::vector<TestSplit> splits = {
      {"CoLA", "glue/CoLA/test.tsv", true},           {"SST-2", "glue/SST-2/test.tsv", true},
      {"MRPC", "glue/MRPC/test.tsv", true},           {"STS-B", "glue/STS-B/test.tsv", true},
      {"RTE", "glue/RTE/test.tsv", true},             {"QQP", "tasks/testdata/glue/QQP/test.tsv", false},
      {"QNLI", "tasks/testdata/glue/QNLI/test.tsv", false}, {"WNLI", "tasks/testdata/glue/WNLI/test.tsv", false},
      {"MNLI", "tasks/testdata/glue/MNLI/test_mismatched.tsv", false, "test_mismatched"},
  };
  for (const TestSplit& s : splits) {
    SCOPED_TRACE(s.task);
    const std::string file = s.shared ? SharedFile(s.file) : SourceFile(s.file);
    ASSERT_FALSE(file.empty()) << s.file;
    ReadStats stats;
    absl::StatusOr<std::vector<SentenceExample>> examples =
        ReadGlueSplit(file.substr(0, file.rfind('/')), s.task, s.split, {}, &stats);
    ASSERT_TRUE(examples.ok()) << examples.status();
    const TaskSpec spec = *GlueTaskSpec(s.task);
    const std::vector<int> labels(examples->size(), static_cast<int>(spec.labels.size()) - 1);
    const std::vector<double> scores(examples->size(), 6.25);  // above STS-B's range: clipped
    absl::StatusOr<std::string> text = GlueSubmissionText(spec, *examples, labels, scores);
    ASSERT_TRUE(text.ok()) << text.status();
    const std::vector<std::string> lines = absl::StrSplit(*text, '\n', absl::SkipEmpty());
    ASSERT_EQ(lines.size(), examples->size() + 1);
    EXPECT_EQ(lines[0], "index\tprediction");
    const std::string expected_prediction = spec.kind == TaskKind::kRegression ? "5.000" : spec.labels.back();
    EXPECT_EQ(lines[1], examples->front().id + "\t" + expected_prediction);
    EXPECT_EQ(lines.back(), examples->back().id + "\t" + expected_prediction);
  }
}

TEST(GlueSubmissionText, RefusesPredictionsThatDoNotFit) {
  const TaskSpec rte = *GlueTaskSpec("RTE");
  std::vector<SentenceExample> examples(2);
  examples[0].id = "0";
  examples[0].line = 2;
  examples[1].id = "1";
  examples[1].line = 3;
  EXPECT_EQ(GlueSubmissionText(rte, examples, {0}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  absl::StatusOr<std::string> out_of_range = GlueSubmissionText(rte, examples, {0, 2}, {});
  EXPECT_EQ(out_of_range.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out_of_range.status().message().find("line 3"), std::string::npos) << out_of_range.status();
  examples[1].id.clear();
  absl::StatusOr<std::string> no_index = GlueSubmissionText(rte, examples, {0, 1}, {});
  EXPECT_NE(no_index.status().message().find("line 3 has no index"), std::string::npos) << no_index.status();
  const TaskSpec stsb = *GlueTaskSpec("STS-B");
  examples[1].id = "1";
  EXPECT_EQ(GlueSubmissionText(stsb, examples, {}, {1.0, std::nan("")}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*GlueSubmissionText(stsb, examples, {}, {-0.5, 2.34567}), "index\tprediction\n0\t0.000\n1\t2.346\n");
}

}  // namespace
}  // namespace cloze::tasks
