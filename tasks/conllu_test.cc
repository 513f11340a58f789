// CoNLL-U on UD English-EWT v2.16 (train read from its .xz) and on broken input. Expected
// figures come from a plain Python reading of the files (the UD release's own counts:
// 12,544 / 2,001 / 2,077 sentences, 204,577 / 25,147 / 25,094 words).
#include "tasks/conllu.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::SharedFile;
using testing::WriteTempFile;

struct SplitCase {
  std::string file;
  size_t sentences;
  int64_t words, lines, noun_upos, nn_xpos, xpos_tags;
  std::string first_id, last_id;
  int64_t first_line, last_line;
};

void PrintTo(const SplitCase& c, std::ostream* os) { *os << c.file; }

class UdEwt : public ::testing::TestWithParam<SplitCase> {};

TEST_P(UdEwt, SentencesWordsAndTags) {
  const SplitCase& c = GetParam();
  const std::string path = SharedFile("ud-english-ewt/" + c.file);
  ASSERT_FALSE(path.empty());
  ReadStats stats;
  absl::StatusOr<std::vector<TaggedSentence>> upos = ReadConllu(path, PosTagSet::kUpos, {}, &stats);
  ASSERT_TRUE(upos.ok()) << upos.status();
  ASSERT_EQ(upos->size(), c.sentences);
  EXPECT_EQ(stats.examples, static_cast<int64_t>(c.sentences));
  EXPECT_EQ(stats.lines, c.lines);  // = wc -l
  EXPECT_EQ(stats.skipped, 0);
  int64_t words = 0, nouns = 0;
  std::set<std::string> tags;
  for (const TaggedSentence& sentence : *upos) {
    ASSERT_EQ(sentence.words.size(), sentence.tags.size());
    words += sentence.words.size();
    for (const std::string& tag : sentence.tags) {
      tags.insert(tag);
      nouns += tag == "NOUN";
    }
  }
  EXPECT_EQ(words, c.words);
  EXPECT_EQ(nouns, c.noun_upos);
  const std::vector<std::string> universal = UniversalPosTags();
  EXPECT_EQ(std::vector<std::string>(tags.begin(), tags.end()), universal);
  EXPECT_EQ(upos->front().id, c.first_id);
  EXPECT_EQ(upos->back().id, c.last_id);
  EXPECT_EQ(upos->front().line, c.first_line);
  EXPECT_EQ(upos->back().line, c.last_line);

  ReadStats xpos_stats;
  absl::StatusOr<std::vector<TaggedSentence>> xpos = ReadConllu(path, PosTagSet::kXpos, {}, &xpos_stats);
  ASSERT_TRUE(xpos.ok()) << xpos.status();
  ASSERT_EQ(xpos->size(), c.sentences);
  std::set<std::string> xpos_tags;
  int64_t nn = 0;
  for (const TaggedSentence& sentence : *xpos) {
    for (const std::string& tag : sentence.tags) {
      xpos_tags.insert(tag);
      nn += tag == "NN";
    }
  }
  EXPECT_EQ(static_cast<int64_t>(xpos_tags.size()), c.xpos_tags);
  EXPECT_EQ(CollectTags(*xpos), std::vector<std::string>(xpos_tags.begin(), xpos_tags.end()));
  EXPECT_EQ(CollectTags(*upos), universal);
  EXPECT_EQ(nn, c.nn_xpos);
  EXPECT_EQ(xpos->front().words, upos->front().words);
}

INSTANTIATE_TEST_SUITE_P(
    Splits, UdEwt,
    ::testing::Values(
        SplitCase{"en_ewt-ud-train.conllu.xz", 12544, 204577, 247862, 34751, 26919, 49,
                  "weblog-juancole.com_juancole_20051126063000_ENG_20051126_063000-0001", "reviews-319816-0029",
                  5, 247836},
        SplitCase{"en_ewt-ud-dev.conllu", 2001, 25147, 32581, 4210, 3353, 49,
                  "weblog-blogspot.com_nominations_20041117172713_ENG_20041117_172713-0001", "reviews-140302-0004",
                  5, 32569},
        SplitCase{"en_ewt-ud-test.conllu", 2077, 25094, 32851, 4123, 3319, 48,
                  "weblog-blogspot.com_zentelligence_20040423000200_ENG_20040423_000200-0001",
                  "reviews-211933-0003", 5, 32831}));

TEST(UdEwtDev, FirstSentenceInBothTagSets) {
  const std::string path = SharedFile("ud-english-ewt/en_ewt-ud-dev.conllu");
  ReadStats stats;
  absl::StatusOr<std::vector<TaggedSentence>> upos = ReadConllu(path, PosTagSet::kUpos, {}, &stats);
  ASSERT_TRUE(upos.ok()) << upos.status();
  EXPECT_THAT(upos->front().words, ElementsAre("From", "the", "AP", "comes", "this", "story", ":"));
  EXPECT_THAT(upos->front().tags, ElementsAre("ADP", "DET", "PROPN", "VERB", "DET", "NOUN", "PUNCT"));
  EXPECT_THAT(upos->front().heads, ElementsAre(3, 3, 4, 0, 6, 4, 4));
  EXPECT_THAT(upos->front().relations, ElementsAre("case", "det", "obl", "root", "det", "nsubj", "punct"));
  absl::StatusOr<std::vector<TaggedSentence>> xpos = ReadConllu(path, PosTagSet::kXpos, {}, &stats);
  ASSERT_TRUE(xpos.ok()) << xpos.status();
  EXPECT_THAT(xpos->front().tags, ElementsAre("IN", "DT", "NNP", "VBZ", "DT", "NN", ":"));
}

std::string Token(const std::string& id, const std::string& form, const std::string& upos = "X") {
  return id + "\t" + form + "\t_\t" + upos + "\tXP\t_\t0\troot\t_\t_\n";
}

TEST(Conllu, SkipsCommentsMultiwordTokensAndEmptyNodesAndAcceptsCrlf) {
  const std::string path = WriteTempFile(
      "mixed.conllu", "\xEF\xBB\xBF# sent_id = s1\r\n# text = Don't go.\r\n" + Token("1-2", "Don't") +
                          Token("1", "Do", "AUX") + Token("2", "n't", "PART") + Token("2.1", "ghost") +
                          Token("3", "go", "VERB") + "\r\n\r\n\r\n" + Token("1", "Yes", "INTJ"));
  ReadStats stats;
  absl::StatusOr<std::vector<TaggedSentence>> sentences = ReadConllu(path, PosTagSet::kUpos, {}, &stats);
  ASSERT_TRUE(sentences.ok()) << sentences.status();
  ASSERT_EQ(sentences->size(), 2u);
  EXPECT_EQ((*sentences)[0].id, "s1");
  EXPECT_THAT((*sentences)[0].words, ElementsAre("Do", "n't", "go"));
  EXPECT_THAT((*sentences)[0].tags, ElementsAre("AUX", "PART", "VERB"));
  EXPECT_EQ((*sentences)[0].line, 4);
  EXPECT_EQ((*sentences)[1].id, "");  // no sent_id comment: not inherited from s1
  EXPECT_THAT((*sentences)[1].words, ElementsAre("Yes"));
  EXPECT_EQ((*sentences)[1].line, 11);
  const TaskSpec spec = TaggingTaskSpec("en_ewt-upos", UniversalPosTags());
  EXPECT_EQ(spec.kind, TaskKind::kTagging);
  EXPECT_EQ(*spec.LabelIndex("X"), 16);
}

struct BrokenCase {
  std::string name, contents;
  int line;
  std::string field;
};

void PrintTo(const BrokenCase& c, std::ostream* os) { *os << c.name; }

class BrokenConllu : public ::testing::TestWithParam<BrokenCase> {};

TEST_P(BrokenConllu, IsInvalidArgumentNamingFileLineAndColumn) {
  const BrokenCase& c = GetParam();
  const std::string path = WriteTempFile(c.name + ".conllu", c.contents);
  ReadStats stats;
  absl::Status status = ReadConllu(path, PosTagSet::kUpos, {}, &stats).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(path + ":" + std::to_string(c.line) + ":"), HasSubstr(c.field)));
  EXPECT_EQ(stats.lines, 0);  // a failed read adds nothing
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BrokenConllu,
    ::testing::Values(
        BrokenCase{"nine_columns", "# c\n" + Token("1", "a") + "2\tb\t_\tX\tXP\t_\t0\troot\t_\n", 3,
                   "expected 10 tab-separated columns, found 9"},
        BrokenCase{"spaces", "1 a _ X XP _ 0 root _ _\n", 1, "found 1"},
        BrokenCase{"word_id", Token("1", "a") + Token("x", "b"), 2, "column 1 (ID): 'x'"},
        BrokenCase{"zero_id", Token("0", "a"), 1, "column 1 (ID): '0'"},
        BrokenCase{"half_range", Token("1-", "a"), 1, "column 1 (ID): '1-'"},
        BrokenCase{"gap", Token("1", "a") + Token("3", "b"), 2, "word 3 where word 2 was due"},
        BrokenCase{"no_blank_line", Token("1", "a") + Token("2", "b") + Token("1", "c"), 3,
                   "word 1 where word 3 was due"},
        BrokenCase{"empty_form", Token("1", ""), 1, "column 2 (FORM) is empty"},
        BrokenCase{"empty_tag", Token("1", "a", ""), 1, "column 4 (UPOS) is empty"},
        BrokenCase{"head_text", Token("1", "a") + "2\tb\t_\tX\tXP\t_\tone\tdep\t_\t_\n", 2,
                   "column 7 (HEAD): 'one'"},
        BrokenCase{"head_outside", Token("1", "a") + "2\tb\t_\tX\tXP\t_\t3\tdep\t_\t_\n\n", 2,
                   "column 7 (HEAD) is beyond the sentence's 2 words"}));

TEST(Conllu, UnannotatedHeadIsMinusOne) {
  const std::string path = WriteTempFile("no_tree.conllu", "1\ta\t_\tX\tXP\t_\t_\t_\t_\t_\n");
  ReadStats stats;
  absl::StatusOr<std::vector<TaggedSentence>> sentences = ReadConllu(path, PosTagSet::kUpos, {}, &stats);
  ASSERT_TRUE(sentences.ok()) << sentences.status();
  EXPECT_THAT(sentences->front().heads, ElementsAre(-1));
  EXPECT_THAT(sentences->front().relations, ElementsAre("_"));
}

TEST(Conllu, NoSentencesIsAnError) {
  const std::string path = WriteTempFile("comments_only.conllu", "# only\n# comments\n\n");
  ReadStats stats;
  absl::Status status = ReadConllu(path, PosTagSet::kUpos, {}, &stats).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), AllOf(HasSubstr(path), HasSubstr("no sentences")));
  EXPECT_EQ(ReadConllu("/no/such.conllu", PosTagSet::kUpos, {}, &stats).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(Conllu, SkipBadLinesDropsTheSentenceAndCountsTheLine) {
  const std::string path = WriteTempFile(
      "skip.conllu", Token("1", "good") + "\n" + Token("1", "bad") + "2\tbroken\n" + Token("3", "tail") + "\n" +
                         Token("1", "also") + Token("2", "good"));
  ReadStats stats;
  absl::StatusOr<std::vector<TaggedSentence>> sentences =
      ReadConllu(path, PosTagSet::kUpos, ReadOptions{.skip_bad_lines = true}, &stats);
  ASSERT_TRUE(sentences.ok()) << sentences.status();
  ASSERT_EQ(sentences->size(), 2u);
  EXPECT_THAT((*sentences)[0].words, ElementsAre("good"));
  EXPECT_THAT((*sentences)[1].words, ElementsAre("also", "good"));
  EXPECT_EQ(stats.skipped, 1);
  EXPECT_EQ(stats.examples, 2);
  EXPECT_THAT(stats.first_skipped, AllOf(HasSubstr(path + ":4:"), HasSubstr("found 2")));
}

}  // namespace
}  // namespace cloze::tasks
