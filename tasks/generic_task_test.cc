// Generic sentence tasks: CLUE-style JSON Lines and TSV with named columns.
#include "tasks/generic_task.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using testing::SourceFile;
using testing::WriteTempFile;

GenericTaskFormat Afqmc() {
  GenericTaskFormat format;
  format.text_a_column = "sentence1";
  format.text_b_column = "sentence2";
  format.id_column = "id";
  return format;
}

TEST(GenericJsonLines, ClueAfqmcTrainAndUnlabelledTest) {
  const std::string train = SourceFile("tasks/testdata/generic/afqmc/train.json");
  absl::StatusOr<TaskSpec> spec = GenericTaskSpec("afqmc", Afqmc(), train, {});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->kind, TaskKind::kPair);
  EXPECT_THAT(spec->labels, ElementsAre("0", "1"));  // "1" and 1 are the same label
  EXPECT_THAT(spec->metrics, ElementsAre("accuracy"));
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceExample>> examples = ReadGenericSplit(train, "train", *spec, Afqmc(), {}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 4u);
  EXPECT_EQ((*examples)[0].text_a, "蚂蚁借呗等额还款可以换成先息后本吗");
  EXPECT_THAT((*examples)[0].text_b, Optional(std::string("借呗有先息到期还本吗")));
  EXPECT_EQ((*examples)[2].label, 1);
  EXPECT_EQ((*examples)[3].label, 1);
  EXPECT_EQ((*examples)[3].text_a, "花呗\"分期\"怎么还");
  EXPECT_EQ((*examples)[3].line, 4);

  ReadStats test_stats;
  absl::StatusOr<std::vector<SentenceExample>> test = ReadGenericSplit(
      SourceFile("tasks/testdata/generic/afqmc/test.json"), "test", *spec, Afqmc(), {}, &test_stats);
  ASSERT_TRUE(test.ok()) << test.status();
  ASSERT_EQ(test->size(), 2u);  // CRLF ends and a blank line between
  EXPECT_EQ(test_stats.lines, 3);
  EXPECT_EQ(test_stats.examples, 2);
  EXPECT_EQ((*test)[1].id, "1");
  EXPECT_EQ((*test)[1].line, 3);
  EXPECT_FALSE((*test)[1].label.has_value());
  EXPECT_THAT((*test)[1].text_b, Optional(std::string("借呗能借多少")));
}

GenericTaskFormat Reviews() {
  GenericTaskFormat format;
  format.text_a_column = "review";
  format.label_column = "stars";
  return format;
}

TEST(GenericTsv, LabelsCollectedInNumericOrderAndGivenLabels) {
  const std::string train = SourceFile("tasks/testdata/generic/reviews/train.tsv");
  absl::StatusOr<TaskSpec> spec = GenericTaskSpec("reviews", Reviews(), train, {});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->kind, TaskKind::kSingle);
  EXPECT_THAT(spec->labels, ElementsAre("2", "9", "10"));  // numbers, not "10" < "2"
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceExample>> examples = ReadGenericSplit(train, "train", *spec, Reviews(), {}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 4u);
  EXPECT_EQ((*examples)[0].text_a, "\"great\" value");  // BOM before the header, CRLF, quotes
  EXPECT_EQ((*examples)[0].label, 2);
  EXPECT_EQ((*examples)[1].label, 0);
  EXPECT_FALSE((*examples)[0].text_b.has_value());

  GenericTaskFormat given = Reviews();
  given.labels = {"10", "9", "2"};
  absl::StatusOr<TaskSpec> given_spec = GenericTaskSpec("reviews", given, "/not/read", {});
  ASSERT_TRUE(given_spec.ok()) << given_spec.status();
  EXPECT_THAT(given_spec->labels, ElementsAre("10", "9", "2"));

  const std::string words = WriteTempFile("words.tsv", "text\tlabel\nx\tpos\ny\tneg\nz\tneutral\n");
  GenericTaskFormat format;
  format.text_a_column = "text";
  EXPECT_THAT(GenericTaskSpec("w", format, words, {})->labels, ElementsAre("neg", "neutral", "pos"));
}

TEST(GenericTsv, Regression) {
  const std::string path = WriteTempFile("scores.tsv", "a\tb\tscore\nx\ty\t0.25\nu\tv\t-3\n");
  GenericTaskFormat format;
  format.text_a_column = "a";
  format.text_b_column = "b";
  format.label_column = "score";
  format.regression = true;
  absl::StatusOr<TaskSpec> spec = GenericTaskSpec("scores", format, path, {});
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->kind, TaskKind::kRegression);
  EXPECT_THAT(spec->metrics, ElementsAre("pearson", "spearman"));
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceExample>> examples = ReadGenericSplit(path, "dev", *spec, format, {}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  EXPECT_THAT((*examples)[0].score, Optional(0.25f));
  EXPECT_THAT((*examples)[1].score, Optional(-3.0f));
  EXPECT_FALSE((*examples)[1].label.has_value());
}

TEST(GenericErrors, NameFileLineAndField) {
  absl::StatusOr<TaskSpec> spec = GenericTaskSpec("afqmc", Afqmc(), SourceFile("tasks/testdata/generic/afqmc/train.json"), {});
  ASSERT_TRUE(spec.ok());
  struct Case {
    std::string name, contents, expected;
  };
  for (const Case& c : std::vector<Case>{
           {"not_object.jsonl", R"({"sentence1": "a", "sentence2": "b", "label": "0"})" "\n[1, 2]\n", ":2: not a JSON object"},
           {"broken.jsonl", R"({"sentence1": "a", "sentence2": "b", "label": "0")" "\n", ":1: not a JSON object"},
           {"missing.jsonl", R"({"sentence1": "a", "label": "0"})" "\n", ":1: field 'sentence2' is missing"},
           {"typed.jsonl", R"({"sentence1": ["a"], "sentence2": "b", "label": "0"})" "\n",
            ":1: field 'sentence1' is a JSON array"},
           {"no_label.jsonl", R"({"sentence1": "a", "sentence2": "b"})" "\n", ":1: field 'label' is missing"},
           {"label.jsonl", R"({"sentence1": "a", "sentence2": "b", "label": "2"})" "\n", ":1: field 'label': label '2'"},
           {"columns.tsv", "id\tsentence1\tsentence2\tlabel\n0\ta\tb\t0\n1\tc\td\n",
            ":3: expected 4 tab-separated columns, found 3"},
           {"header.tsv", "id\ts1\tsentence2\tlabel\n0\ta\tb\t0\n", ":1: the header has no column 'sentence1'"},
           {"no_id.tsv", "sentence1\tsentence2\tlabel\na\tb\t0\n", ":1: the header has no column 'id'"},
           {"empty.jsonl", "\n\n", ": no examples"},
       }) {
    const std::string path = WriteTempFile(c.name, c.contents);
    ReadStats stats;
    absl::Status status = ReadGenericSplit(path, "dev", *spec, Afqmc(), {}, &stats).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_THAT(std::string(status.message()), HasSubstr(path + c.expected)) << c.name;
  }
  ReadStats stats;
  EXPECT_EQ(ReadGenericSplit("/no/such.jsonl", "dev", *spec, Afqmc(), {}, &stats).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(GenericErrors, SkipBadLines) {
  absl::StatusOr<TaskSpec> spec = GenericTaskSpec("afqmc", Afqmc(), SourceFile("tasks/testdata/generic/afqmc/train.json"), {});
  ASSERT_TRUE(spec.ok());
  const std::string path = WriteTempFile(
      "mixed.jsonl", R"({"sentence1": "a", "sentence2": "b", "label": "0"})" "\nnot json\n"
                     R"({"sentence1": "c", "sentence2": "d", "label": "7"})" "\n"
                     R"({"sentence1": "e", "sentence2": "f", "label": 1})" "\n");
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceExample>> examples =
      ReadGenericSplit(path, "train", *spec, Afqmc(), ReadOptions{.skip_bad_lines = true}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 2u);
  EXPECT_EQ((*examples)[1].line, 4);
  EXPECT_EQ(stats.skipped, 2);
  EXPECT_THAT(stats.first_skipped, HasSubstr(path + ":2: not a JSON object"));
}

}  // namespace
}  // namespace cloze::tasks
