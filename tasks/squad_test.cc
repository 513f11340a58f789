// SQuAD reading on the official v1.1 dev set (from its .xz) and on small v2.0 / broken
// files. Expected figures come from Python's json module (48 articles, 2,067 paragraphs,
// 10,570 questions, 34,726 answers; byte offsets as len(context[:answer_start].encode())).
#include "tasks/squad.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::SharedFile;
using testing::WriteTempFile;

TEST(SquadV11Dev, EveryQuestionAndAnswer) {
  const std::string path = SharedFile("squad-v1.1/dev-v1.1.json.xz");
  ASSERT_FALSE(path.empty());
  ReadStats stats;
  absl::StatusOr<std::vector<QaExample>> examples = ReadSquad(path, {}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 10570u);
  EXPECT_EQ(stats.examples, 10570);
  EXPECT_EQ(stats.skipped, 0);
  size_t answers = 0, shifted = 0;
  for (const QaExample& example : *examples) {
    EXPECT_FALSE(example.is_impossible);
    EXPECT_FALSE(example.answers.empty()) << example.id;
    answers += example.answers.size();
    for (const QaAnswer& answer : example.answers) {
      EXPECT_EQ(example.context.substr(answer.byte_start, answer.text.size()), answer.text);
      shifted += answer.byte_start != answer.char_start;
    }
  }
  EXPECT_EQ(answers, 34726u);
  EXPECT_EQ(shifted, 5632u);  // answers after a non-ASCII character: bytes != code points

  const QaExample& first = examples->front();
  EXPECT_EQ(first.id, "56be4db0acb8001400a502ec");
  EXPECT_EQ(first.title, "Super_Bowl_50");
  EXPECT_EQ(first.question, "Which NFL team represented the AFC at Super Bowl 50?");
  ASSERT_EQ(first.answers.size(), 3u);
  EXPECT_EQ(first.answers[0].text, "Denver Broncos");
  EXPECT_EQ(first.answers[0].char_start, 177);
  EXPECT_EQ(first.answers[0].byte_start, 177);
  EXPECT_EQ((*examples)[2].id, "56be4db0acb8001400a502ee");
  EXPECT_EQ((*examples)[2].answers[0].text, "Santa Clara, California");
  EXPECT_EQ((*examples)[2].answers[0].char_start, 403);
  EXPECT_EQ((*examples)[2].answers[0].byte_start, 405);

  const QaExample& last = examples->back();
  EXPECT_EQ(last.id, "5737aafd1c456719005744ff");
  EXPECT_EQ(last.title, "Force");
  ASSERT_EQ(last.answers.size(), 5u);
  EXPECT_EQ(last.answers[4].text, "sth\xC3\xA8ne");
  EXPECT_EQ(last.answers[4].char_start, 665);
  EXPECT_EQ(last.answers[4].byte_start, 668);
}

// A one-paragraph SQuAD file; `qas` is the JSON list of questions.
std::string OneParagraph(const std::string& context, const std::string& qas) {
  return R"({"version": "v2.0", "data": [{"title": "T", "paragraphs": [{"context": ")" + context +
         R"(", "qas": )" + qas + "}]}]}";
}

TEST(Squad, V2ImpossibleQuestionsWithPlausibleAnswersAndChineseOffsets) {
  // "北京是中国的首都。": 首都 starts at code point 6, byte 18.
  const std::string path = WriteTempFile(
      "v2.json", OneParagraph("北京是中国的首都。",
                              R"([{"id": "a", "question": "首都?", "answers": [{"text": "首都", "answer_start": 6}],
                                   "is_impossible": false},
                                  {"id": "b", "question": "人口?", "answers": [], "is_impossible": true,
                                   "plausible_answers": [{"text": "北京", "answer_start": 0}]}])"));
  ReadStats stats;
  absl::StatusOr<std::vector<QaExample>> examples = ReadSquad(path, {}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 2u);
  EXPECT_EQ((*examples)[0].answers[0].byte_start, 18);
  EXPECT_FALSE((*examples)[0].is_impossible);
  EXPECT_TRUE((*examples)[1].is_impossible);
  EXPECT_TRUE((*examples)[1].answers.empty());
  ASSERT_EQ((*examples)[1].plausible_answers.size(), 1u);
  EXPECT_EQ((*examples)[1].plausible_answers[0].text, "北京");
  EXPECT_EQ(SquadTaskSpec("squad").metrics, (std::vector<std::string>{"exact_match", "f1"}));
}

struct BrokenCase {
  std::string name, qas, field;
};

void PrintTo(const BrokenCase& c, std::ostream* os) { *os << c.name; }

class BrokenSquad : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenSquad, NamesFileQuestionAndField) {
  const BrokenCase& c = GetParam();
  const std::string path = WriteTempFile(c.name + ".json", OneParagraph("Paris is in Fran\xC3\xA7" "e.", c.qas));
  ReadStats stats;
  absl::Status status = ReadSquad(path, {}, &stats).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(path), HasSubstr("question q1"), HasSubstr(c.field)));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BrokenSquad,
    ::testing::Values(
        // "e." starts at byte 18 but code point 17: a byte offset is wrong.
        BrokenCase{"off_by_bytes", R"([{"id": "q1", "question": "?", "answers": [{"text": "e.", "answer_start": 18}]}])",
                   "answers[0].answer_start' 18: the context there reads '.'"},
        BrokenCase{"wrong_text", R"([{"id": "q1", "question": "?", "answers": [{"text": "Paris", "answer_start": 0},
                                                                              {"text": "Rome", "answer_start": 12}]}])",
                   "answers[1].answer_start' 12: the context there reads 'Fran'"},
        BrokenCase{"past_the_end", R"([{"id": "q1", "question": "?", "answers": [{"text": "x", "answer_start": 99}]}])",
                   "outside the context's 19 characters"},
        BrokenCase{"negative", R"([{"id": "q1", "question": "?", "answers": [{"text": "x", "answer_start": -1}]}])",
                   "answers[0].answer_start' -1"},
        BrokenCase{"start_as_string", R"([{"id": "q1", "question": "?", "answers": [{"text": "P", "answer_start": "0"}]}])",
                   "answers[0].answer_start' is missing or not an integer"},
        BrokenCase{"no_question", R"([{"id": "q1", "answers": []}])", "field 'question' is missing"},
        BrokenCase{"bad_plausible", R"([{"id": "q1", "question": "?", "answers": [], "is_impossible": true,
                                         "plausible_answers": [{"text": "Rome", "answer_start": 0}]}])",
                   "plausible_answers[0].answer_start' 0"}));

TEST(Squad, FileLevelErrors) {
  ReadStats stats;
  const std::string not_json = WriteTempFile("not.json", "{\"data\": [");
  EXPECT_THAT(std::string(ReadSquad(not_json, {}, &stats).status().message()), AllOf(HasSubstr(not_json), HasSubstr("not valid JSON")));
  // The line where the text stops being JSON.
  const std::string broken = WriteTempFile("broken.json", "{\"data\": [\n  {\"title\": \"t\",\n   \"paragraphs\": [}\n]}\n");
  EXPECT_THAT(std::string(ReadSquad(broken, {}, &stats).status().message()),
              HasSubstr(broken + ":3: not valid JSON: syntax error"));
  const std::string no_data = WriteTempFile("no_data.json", "{\"version\": \"1.1\"}");
  EXPECT_THAT(std::string(ReadSquad(no_data, {}, &stats).status().message()), AllOf(HasSubstr(no_data), HasSubstr("'data'")));
  const std::string empty = WriteTempFile("empty.json", OneParagraph("c", "[]"));
  EXPECT_THAT(std::string(ReadSquad(empty, {}, &stats).status().message()), AllOf(HasSubstr(empty), HasSubstr("no questions")));
  EXPECT_EQ(ReadSquad("/no/such.json", {}, &stats).status().code(), absl::StatusCode::kNotFound);
}

TEST(Squad, SkipBadCountsTheQuestion) {
  const std::string path = WriteTempFile(
      "skip.json", OneParagraph("abc", R"([{"id": "bad", "question": "?", "answers": [{"text": "z", "answer_start": 0}]},
                                           {"id": "good", "question": "?", "answers": [{"text": "bc", "answer_start": 1}]}])"));
  ReadStats stats;
  absl::StatusOr<std::vector<QaExample>> examples = ReadSquad(path, ReadOptions{.skip_bad_lines = true}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), 1u);
  EXPECT_EQ((*examples)[0].id, "good");
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_THAT(stats.first_skipped, AllOf(HasSubstr(path), HasSubstr("question bad"), HasSubstr("answers[0]")));
}

}  // namespace
}  // namespace cloze::tasks
