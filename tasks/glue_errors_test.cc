// Bad GLUE input: every error is a Status naming the file, the 1-based line and the column;
// skip_bad_lines skips and counts instead.
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/glue_tasks.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::WriteTempFile;

// Writes `contents` as <task folder>/<split>.tsv and returns the folder.
std::string TaskDir(const std::string& name, const std::string& split, const std::string& contents) {
  const std::string path = WriteTempFile(name + "/" + split + ".tsv", contents);
  return path.substr(0, path.rfind('/'));
}

absl::Status ReadError(const std::string& dir, const std::string& task, const std::string& split,
                       ReadOptions options = {}) {
  ReadStats stats;
  return ReadGlueSplit(dir, task, split, options, &stats).status();
}

const char kRteHeader[] = "index\tsentence1\tsentence2\tlabel\n";

TEST(GlueErrors, WrongColumnCountNamesFileLineAndCounts) {
  const std::string dir = TaskDir("columns", "dev", std::string(kRteHeader) +
                                                        "0\tA man sleeps.\tA man rests.\tentailment\n"
                                                        "1\tA stray\ttab\there\tentailment\n");
  absl::Status status = ReadError(dir, "RTE", "dev");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(dir + "/dev.tsv:3:"),
                                      HasSubstr("expected 4 tab-separated columns, found 5")));
}

TEST(GlueErrors, LabelOutsideTheTaskNamesFileLineAndColumn) {
  const std::string dir = TaskDir("label", "train", std::string(kRteHeader) +
                                                        "0\tA man sleeps.\tA man rests.\tmaybe\n");
  absl::Status status = ReadError(dir, "RTE", "train");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()),
              AllOf(HasSubstr(dir + "/train.tsv:2:"), HasSubstr("column 'label'"), HasSubstr("'maybe'"),
                    HasSubstr("{entailment, not_entailment}")));
}

TEST(GlueErrors, HeadlessColaChecksColumnsAndLabelsByPosition) {
  const std::string bad_label = TaskDir("cola_label", "train", "gj04\t1\t\tFine.\ngj04\t2\t\tOdd label.\n");
  absl::Status status = ReadError(bad_label, "CoLA", "train");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(bad_label + "/train.tsv:2:"), HasSubstr("column 1"),
                                      HasSubstr("'2'")));
  const std::string short_line = TaskDir("cola_columns", "dev", "gj04\t1\t\tFine.\ngj04\t1\tNo sentence\n");
  status = ReadError(short_line, "CoLA", "dev");
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(short_line + "/dev.tsv:2:"),
                                      HasSubstr("expected 4 tab-separated columns, found 3")));
}

TEST(GlueErrors, StsbScoreMustBeANumberInRange) {
  const std::string header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
  const std::string row = "0\tg\tf\t2012\t0001\tnone\tnone\tA.\tB.\t";
  for (const char* score : {"high", "5.5", "-0.1", "nan"}) {
    const std::string dir = TaskDir(std::string("stsb_") + score, "train", header + row + score + "\n");
    absl::Status status = ReadError(dir, "STS-B", "train");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << score;
    EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(dir + "/train.tsv:2:"), HasSubstr("column 'score'"),
                                        HasSubstr(score)));
  }
}

TEST(GlueErrors, HeaderWithoutTheTasksColumn) {
  const std::string dir = TaskDir("header", "train", "sentence\tlabels\nfine .\t1\n");
  absl::Status status = ReadError(dir, "SST-2", "train");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(dir + "/train.tsv:1:"), HasSubstr("column 'label'"),
                                      HasSubstr("sentence, labels")));
}

TEST(GlueErrors, EmptyFilesAreErrors) {
  const std::string header_only = TaskDir("header_only", "dev", kRteHeader);
  absl::Status status = ReadError(header_only, "RTE", "dev");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(header_only + "/dev.tsv"), HasSubstr("no examples")));
  const std::string empty = TaskDir("empty", "dev", "");
  status = ReadError(empty, "RTE", "dev");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(empty + "/dev.tsv"), HasSubstr("empty file")));
  const std::string cola_empty = TaskDir("cola_empty", "dev", "\n\n");
  status = ReadError(cola_empty, "CoLA", "dev");
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(cola_empty + "/dev.tsv"), HasSubstr("no examples")));
}

TEST(GlueErrors, BlankLineInsideTheFileIsAWrongColumnCount) {
  const std::string dir = TaskDir("blank", "dev", std::string(kRteHeader) + "\n0\tA.\tB.\tentailment\n");
  absl::Status status = ReadError(dir, "RTE", "dev");
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(dir + "/dev.tsv:2:"), HasSubstr("found 1")));
}

TEST(GlueErrors, MissingFileIsNotFound) {
  const std::string dir = TaskDir("missing", "train", std::string(kRteHeader) + "0\tA.\tB.\tentailment\n");
  absl::Status status = ReadError(dir, "RTE", "test");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(status.message()), HasSubstr(dir + "/test.tsv"));
}

TEST(GlueErrors, UnknownTaskOrSplit) {
  absl::Status status = ReadError("/nowhere", "SQuAD", "train");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr("unknown GLUE task 'SQuAD'"), HasSubstr("CoLA, SST-2")));
  EXPECT_EQ(GlueTaskSpec("MNLI-x").status().code(), absl::StatusCode::kInvalidArgument);
  status = ReadError("/nowhere", "RTE", "validation");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr("'validation'"), HasSubstr("train, dev, test")));
}

TEST(GlueErrors, SkipBadLinesCountsAndKeepsTheRest) {
  const std::string dir = TaskDir("skip", "train", std::string(kRteHeader) +
                                                       "0\tA.\tB.\tentailment\n"
                                                       "1\tonly three\tcolumns\n"
                                                       "2\tC.\tD.\tmaybe\n"
                                                       "3\tE.\tF.\tnot_entailment\n");
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceExample>> examples =
      ReadGlueSplit(dir, "RTE", "train", ReadOptions{.skip_bad_lines = true}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 2u);
  EXPECT_EQ((*examples)[0].line, 2);
  EXPECT_EQ((*examples)[1].line, 5);
  EXPECT_EQ((*examples)[1].label, 1);
  EXPECT_EQ(stats.skipped, 2);
  EXPECT_EQ(stats.examples, 2);
  EXPECT_EQ(stats.lines, 5);
  EXPECT_THAT(stats.first_skipped, AllOf(HasSubstr(dir + "/train.tsv:3:"), HasSubstr("found 3")));

  // Every line bad: still an error, saying how many of this file's lines were skipped (not
  // the tally of earlier reads), and the tally is left as it was.
  const std::string all_bad = TaskDir("all_bad", "dev", std::string(kRteHeader) + "0\tA.\tB.\tmaybe\n");
  absl::Status status =
      ReadGlueSplit(all_bad, "RTE", "dev", ReadOptions{.skip_bad_lines = true}, &stats).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr("no examples"), HasSubstr("(1 bad lines skipped)")));
  EXPECT_EQ(stats.skipped, 2);
  EXPECT_EQ(stats.lines, 5);

  // A second good read adds to the tally.
  ASSERT_TRUE(ReadGlueSplit(dir, "RTE", "train", ReadOptions{.skip_bad_lines = true}, &stats).ok());
  EXPECT_EQ(stats.skipped, 4);
  EXPECT_EQ(stats.examples, 4);
  EXPECT_EQ(stats.lines, 10);
  EXPECT_THAT(stats.first_skipped, HasSubstr(dir + "/train.tsv:3:"));
}

}  // namespace
}  // namespace cloze::tasks
