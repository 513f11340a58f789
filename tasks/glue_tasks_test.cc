// GLUE readers on the real task files of shared/data (CoLA, SST-2, MRPC, STS-B, RTE: train,
// dev, test) and on fixtures in the official layouts of the others (QQP, MNLI, QNLI, WNLI).
// Expected counts and rows come from Python's csv reader with quoting off (as GLUE's and
// Hugging Face's readers read these files) and `wc -l` minus the header.
#include <map>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/glue_tasks.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks {
namespace {

using ::testing::ElementsAre;
using ::testing::Optional;
using testing::SharedFile;
using testing::SourceFile;

struct SplitCase {
  std::string task, folder, split;
  size_t count;
  int64_t first_line, last_line;
  std::string first_text_a, last_text_a;
  std::map<int, int> label_counts;  // classification train/dev only
};

void PrintTo(const SplitCase& c, std::ostream* os) { *os << c.task << "/" << c.split; }

class RealGlueSplit : public ::testing::TestWithParam<SplitCase> {};

TEST_P(RealGlueSplit, CountsRowsAndLabelsMatchTheFile) {
  const SplitCase& c = GetParam();
  const std::string file = SharedFile("glue/" + c.folder + "/" + c.split + ".tsv");
  ASSERT_FALSE(file.empty());
  const std::string dir = file.substr(0, file.rfind('/'));
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceExample>> examples = ReadGlueSplit(dir, c.task, c.split, {}, &stats);
  ASSERT_TRUE(examples.ok()) << examples.status();
  ASSERT_EQ(examples->size(), c.count);
  EXPECT_EQ(stats.examples, static_cast<int64_t>(c.count));
  EXPECT_EQ(stats.skipped, 0);
  EXPECT_EQ(examples->front().line, c.first_line);
  EXPECT_EQ(examples->back().line, c.last_line);
  EXPECT_EQ(examples->front().text_a, c.first_text_a);
  EXPECT_EQ(examples->back().text_a, c.last_text_a);
  EXPECT_EQ(examples->front().guid, c.split + "-" + std::to_string(c.first_line));
  const bool test = c.split == "test";
  std::map<int, int> label_counts;
  for (const SentenceExample& example : *examples) {
    EXPECT_EQ(example.label.has_value(), !test && c.task != "STS-B") << example.line;
    EXPECT_EQ(example.score.has_value(), !test && c.task == "STS-B") << example.line;
    if (example.label) ++label_counts[*example.label];
  }
  EXPECT_EQ(label_counts, c.label_counts);
  if (test) {  // the submission index counts 0, 1, 2, ...
    EXPECT_EQ(examples->front().id, "0");
    EXPECT_EQ(examples->back().id, std::to_string(c.count - 1));
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllFiles, RealGlueSplit,
    ::testing::Values(
        SplitCase{"CoLA", "CoLA", "train", 8551, 1, 8551,
                  "Our friends won't buy this analysis, let alone the next one we propose.",
                  "What all did you get for Christmas?", {{0, 2528}, {1, 6023}}},
        SplitCase{"CoLA", "CoLA", "dev", 1043, 1, 1043, "The sailors rode the breeze clear of the rocks.",
                  "John talked to Bill about himself.", {{0, 322}, {1, 721}}},
        SplitCase{"CoLA", "CoLA", "test", 1063, 2, 1064, "Bill whistled past the house.",
                  "A picture of himself frightened John.", {}},
        SplitCase{"SST-2", "SST-2", "train", 67349, 2, 67350, "hide new secretions from the parental units ",
                  "this new jangle of noise , mayhem and stupidity must be a serious contender for the title . ",
                  {{0, 29780}, {1, 37569}}},
        SplitCase{"SST-2", "SST-2", "dev", 872, 2, 873, "it 's a charming and often affecting journey . ",
                  "looking aristocratic , luminous yet careworn in jane hamilton 's exemplary costumes , "
                  "rampling gives a performance that could not be improved upon . ' ",
                  {{0, 428}, {1, 444}}},
        SplitCase{"SST-2", "SST-2", "test", 1821, 2, 1822, "uneasy mishmash of styles and genres .",
                  "dazzling and sugar-sweet , a blast of shallow magnificence that only sex , scandal , and a "
                  "chorus line of dangerous damsels can deliver .",
                  {}},
        SplitCase{"MRPC", "MRPC", "train", 3668, 2, 3669,
                  "Amrozi accused his brother , whom he called \" the witness \" , of deliberately distorting "
                  "his evidence .",
                  "The 30-year bond US30YT = RR rose 22 / 32 for a yield of 4.31 percent , versus 4.35 percent "
                  "at Wednesday 's close .",
                  {{0, 1194}, {1, 2474}}},
        SplitCase{"MRPC", "MRPC", "dev", 408, 2, 409,
                  "He said the foodservice pie business doesn 't fit the company 's long-term growth strategy .",
                  "Ex-KGB agent Putin added that the Beatles were considered ' propaganda of an alien ideology ' .",
                  {{0, 129}, {1, 279}}},
        SplitCase{"MRPC", "MRPC", "test", 1725, 2, 1726,
                  "PCCW 's chief operating officer , Mike Butcher , and Alex Arena , the chief financial officer "
                  ", will report directly to Mr So .",
                  "Sobig.F spreads when unsuspecting computer users open file attachments in emails that contain "
                  "such familiar headings as \" Thank You ! , \" \" Re : Details \" or \" Re : That Movie . \"",
                  {}},
        SplitCase{"STS-B", "STS-B", "train", 5749, 2, 5750, "A plane is taking off.",
                  "Putin spokesman: Doping charges appear unfounded", {}},
        SplitCase{"STS-B", "STS-B", "dev", 1500, 2, 1501, "A man with a hard hat is dancing.",
                  "New video shows US police officers beating mentally-ill man", {}},
        SplitCase{"STS-B", "STS-B", "test", 1379, 2, 1380, "A girl is styling her hair.",
                  "South Korea declares end to MERS outbreak", {}},
        SplitCase{"RTE", "RTE", "train", 2490, 2, 2491, "No Weapons of Mass Destruction Found in Iraq Yet.",
                  "Turkey is unlikely to become involved in, or allow U.S. forces to use Turkish territory in a "
                  "Middle East war that does not threaten her territory directly.",
                  {{0, 1249}, {1, 1241}}},
        SplitCase{"RTE", "RTE", "dev", 277, 2, 278,
                  "Dana Reeve, the widow of the actor Christopher Reeve, has died of lung cancer at age 44, "
                  "according to the Christopher Reeve Foundation.",
                  "Danny Kennedy, Greenpeace campaigns director, said: \"The burden of proof in the Scott Parkin "
                  "expulsion case lies morally with the Commonwealth, to prove that he is a danger. When the "
                  "Government brought in anti-terror legislation, they promised the public that these laws "
                  "would only be used to confront a real and present risk of a terrorist attack, not a "
                  "sweep-all approach against citizens. Peace is not terrorism. Peace is not a threat to "
                  "national security. No democratic government should expel a foreign citizen because [it] "
                  "opposes his political opinions.\"",
                  {{0, 146}, {1, 131}}},
        SplitCase{"RTE", "RTE", "test", 3000, 2, 3001,
                  "Mangla was summoned after Madhumita's sister Nidhi Shukla, who was the first witness in the case.",
                  "A Helios airliner (Boeing 737, flight HCY 522) with 115 passengers and 6 crew onboard has "
                  "crashed into a mountain at 09:04 UTC (12:04 p.m. EEST) near Grammatiko, 40 kilometres (25 "
                  "miles) north of Athens, while approaching the capital's airport. All on board perished. The "
                  "plane was travelling from Larnaca, in the southeast of Cyprus (Greek:Kypros) and scheduled to "
                  "arrive in Prague after a stop in Athens. In-flight events Immediately after take-off, the "
                  "pilots reported a problem with the air conditioning system of the aircraft and requested to "
                  "stay at a low altitude. A few minutes later, the pilots alerted the station that the problem "
                  "had been fixed and requested permission to ascend. This information however has been denied "
                  "by the Director of Helios Airways. As the plane approached Athens, all communication "
                  "abruptly ceased, and the plane never issued a mayday distress signal. Two Greek F-16 military "
                  "aircraft were assigned to observe the plane. The pilots of the F-16s noted that one airliner "
                  "pilot appeared to be unconscious and the other was not in the cockpit.",
                  {}}));

absl::StatusOr<std::vector<SentenceExample>> ReadReal(const std::string& task, const std::string& split) {
  const std::string file = SharedFile("glue/" + task + "/" + split + ".tsv");
  ReadStats stats;
  return ReadGlueSplit(file.substr(0, file.rfind('/')), task, split, {}, &stats);
}

TEST(RealGlue, MrpcKeepsQuotesAsTextAndReadsBothSentences) {
  absl::StatusOr<std::vector<SentenceExample>> dev = ReadReal("MRPC", "dev");
  ASSERT_TRUE(dev.ok()) << dev.status();
  // A CSV reader would take this leading quote as the start of a quoted field.
  EXPECT_THAT((*dev)[0].text_b,
              Optional(std::string("\" The foodservice pie business does not fit our long-term growth strategy .")));
  EXPECT_THAT(dev->back().text_b,
              Optional(std::string("In Soviet times the Beatles ' music \" was considered propaganda of an "
                                   "alien ideology .")));
  EXPECT_EQ((*dev)[0].label, 1);
  absl::StatusOr<std::vector<SentenceExample>> test = ReadReal("MRPC", "test");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_THAT(test->back().text_b,
              Optional(std::string("The virus spreads when unsuspecting computer users open file attachments in "
                                   "emails that contain familiar headings like \" Thank You ! \" and \" Re : "
                                   "Details \" .")));
}

TEST(RealGlue, StsbScoresAreFloatsInRange) {
  absl::StatusOr<std::vector<SentenceExample>> train = ReadReal("STS-B", "train");
  ASSERT_TRUE(train.ok()) << train.status();
  double sum = 0;
  for (const SentenceExample& example : *train) sum += *example.score;
  EXPECT_NEAR(sum, 15528.0434, 0.01);  // Python: sum(float(row[9]))
  EXPECT_FLOAT_EQ(*(*train)[0].score, 5.0f);
  EXPECT_FLOAT_EQ(*(*train)[1].score, 3.8f);
  EXPECT_THAT((*train)[0].text_b, Optional(std::string("An air plane is taking off.")));
  EXPECT_EQ((*train)[0].id, "0");
}

TEST(RealGlue, RteLabelsAreIndicesIntoTheSpec) {
  absl::StatusOr<TaskSpec> spec = GlueTaskSpec("rte");
  ASSERT_TRUE(spec.ok());
  EXPECT_THAT(spec->labels, ElementsAre("entailment", "not_entailment"));
  absl::StatusOr<std::vector<SentenceExample>> dev = ReadReal("RTE", "dev");
  ASSERT_TRUE(dev.ok()) << dev.status();
  EXPECT_EQ((*dev)[0].label, 1);  // not_entailment
  EXPECT_EQ((*dev)[0].id, "0");
  EXPECT_THAT((*dev)[0].text_b, Optional(std::string("Christopher Reeve had an accident.")));
}

TEST(GlueSpecs, EveryTaskHasItsKindLabelsAndMetrics) {
  EXPECT_THAT(GlueTaskNames(),
              ElementsAre("CoLA", "SST-2", "MRPC", "STS-B", "QQP", "MNLI", "QNLI", "RTE", "WNLI"));
  struct Expected {
    const char* name;
    TaskKind kind;
    std::vector<std::string> labels, metrics;
  };
  for (const Expected& e : std::vector<Expected>{
           {"cola", TaskKind::kSingle, {"0", "1"}, {"matthews_corrcoef"}},
           {"sst2", TaskKind::kSingle, {"0", "1"}, {"accuracy"}},
           {"MRPC", TaskKind::kPair, {"0", "1"}, {"f1", "accuracy"}},
           {"sts-b", TaskKind::kRegression, {}, {"pearson", "spearman"}},
           {"QQP", TaskKind::kPair, {"0", "1"}, {"f1", "accuracy"}},
           {"mnli", TaskKind::kPair, {"contradiction", "entailment", "neutral"}, {"accuracy"}},
           {"qnli", TaskKind::kPair, {"entailment", "not_entailment"}, {"accuracy"}},
           {"RTE", TaskKind::kPair, {"entailment", "not_entailment"}, {"accuracy"}},
           {"wnli", TaskKind::kPair, {"0", "1"}, {"accuracy"}}}) {
    absl::StatusOr<TaskSpec> spec = GlueTaskSpec(e.name);
    ASSERT_TRUE(spec.ok()) << e.name << ": " << spec.status();
    EXPECT_EQ(spec->kind, e.kind) << e.name;
    EXPECT_EQ(spec->labels, e.labels) << e.name;
    EXPECT_EQ(spec->metrics, e.metrics) << e.name;
  }
  EXPECT_THAT(*GlueSplits("MNLI"),
              ElementsAre("train", "dev_matched", "dev_mismatched", "test_matched", "test_mismatched"));
  EXPECT_THAT(*GlueSplits("CoLA"), ElementsAre("train", "dev", "test"));
}

// Fixtures: tasks/testdata/make_fixtures.py writes them in the official layouts.
absl::StatusOr<std::vector<SentenceExample>> ReadFixture(const std::string& task, const std::string& split,
                                                         ReadStats* stats = nullptr) {
  ReadStats local;
  return ReadGlueSplit(SourceFile("tasks/testdata/glue/" + task), task, split, {},
                       stats ? stats : &local);
}

TEST(FixtureGlue, QqpWithBomCrlfAndQuotes) {
  ReadStats stats;
  absl::StatusOr<std::vector<SentenceExample>> train = ReadFixture("QQP", "train", &stats);
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->size(), 3u);
  EXPECT_EQ(stats.lines, 4);
  EXPECT_EQ((*train)[0].id, "133273");
  EXPECT_EQ((*train)[0].label, 0);
  // CRLF: the last column carries no '\r'; quotes stay text, unbalanced ones included.
  EXPECT_EQ((*train)[1].text_a, "What does \"quid pro quo\" mean?");
  EXPECT_THAT((*train)[1].text_b, Optional(std::string("What is the meaning of \"quid pro quo\"?")));
  EXPECT_EQ((*train)[1].label, 1);
  EXPECT_EQ((*train)[2].text_a, "Why is 6\" the \"standard?");
  EXPECT_EQ((*train)[2].line, 4);
  absl::StatusOr<std::vector<SentenceExample>> test = ReadFixture("QQP", "test");
  ASSERT_TRUE(test.ok()) << test.status();
  ASSERT_EQ(test->size(), 2u);
  EXPECT_EQ((*test)[1].id, "1");
  EXPECT_EQ((*test)[1].text_a, "Should I have a hair transplant at age 24? How much would it cost?");
  EXPECT_FALSE((*test)[1].label.has_value());
  ASSERT_TRUE(ReadFixture("QQP", "dev").ok());
}

TEST(FixtureGlue, MnliReadsEverySplitByColumnName) {
  absl::StatusOr<std::vector<SentenceExample>> train = ReadFixture("MNLI", "train");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->size(), 3u);
  EXPECT_EQ((*train)[0].text_a, "Conceptually cream skimming has two basic dimensions - product and geography.");
  EXPECT_THAT((*train)[0].text_b, Optional(std::string("Product and geography are what make cream skimming work. ")));
  EXPECT_EQ((*train)[0].label, 2);  // neutral
  EXPECT_EQ((*train)[1].label, 1);  // entailment
  EXPECT_EQ((*train)[2].label, 0);  // contradiction
  EXPECT_EQ((*train)[2].text_a, "He said, \"Come on.\"");
  // dev has five annotator labels before gold_label (16 columns) and CRLF ends.
  absl::StatusOr<std::vector<SentenceExample>> matched = ReadFixture("MNLI", "dev_matched");
  ASSERT_TRUE(matched.ok()) << matched.status();
  ASSERT_EQ(matched->size(), 2u);
  EXPECT_EQ((*matched)[0].label, 2);  // gold neutral, though label2 says entailment
  EXPECT_EQ((*matched)[1].label, 0);
  EXPECT_EQ((*matched)[1].guid, "dev_matched-3");
  absl::StatusOr<std::vector<SentenceExample>> mismatched = ReadFixture("MNLI", "dev_mismatched");
  ASSERT_TRUE(mismatched.ok()) << mismatched.status();
  EXPECT_EQ(mismatched->size(), 1u);
  for (const char* split : {"test_matched", "test_mismatched"}) {
    absl::StatusOr<std::vector<SentenceExample>> test = ReadFixture("MNLI", split);
    ASSERT_TRUE(test.ok()) << split << ": " << test.status();
    ASSERT_EQ(test->size(), 1u);
    EXPECT_EQ((*test)[0].id, "0");
    EXPECT_THAT((*test)[0].text_b, Optional(std::string("Hierbas is a name worth looking out for.")));
    EXPECT_FALSE((*test)[0].label.has_value());
  }
  EXPECT_FALSE(ReadFixture("MNLI", "dev").ok());  // MNLI has no plain dev split
}

TEST(FixtureGlue, QnliWithBomAndATestFileWithoutFinalNewline) {
  absl::StatusOr<std::vector<SentenceExample>> train = ReadFixture("QNLI", "train");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->size(), 3u);
  EXPECT_EQ((*train)[0].id, "0");  // the BOM is not part of the header's first name
  EXPECT_EQ((*train)[0].text_a, "When did the third Digimon series begin?");
  EXPECT_EQ((*train)[0].label, 1);
  EXPECT_EQ((*train)[2].label, 0);
  EXPECT_THAT((*train)[2].text_b, Optional(std::string("J. R. R. Tolkien wrote \"The Hobbit\".")));
  absl::StatusOr<std::vector<SentenceExample>> test = ReadFixture("QNLI", "test");
  ASSERT_TRUE(test.ok()) << test.status();
  ASSERT_EQ(test->size(), 1u);
  EXPECT_EQ(test->back().text_b->back(), '.');  // no '\r' left by the CRLF end
  ASSERT_TRUE(ReadFixture("QNLI", "dev").ok());
}

TEST(FixtureGlue, Wnli) {
  absl::StatusOr<std::vector<SentenceExample>> train = ReadFixture("WNLI", "train");
  ASSERT_TRUE(train.ok()) << train.status();
  ASSERT_EQ(train->size(), 3u);
  EXPECT_EQ((*train)[0].label, 1);
  EXPECT_EQ((*train)[2].label, 0);
  EXPECT_THAT((*train)[1].text_b, Optional(std::string("John is so short.")));
  absl::StatusOr<std::vector<SentenceExample>> dev = ReadFixture("WNLI", "dev");
  ASSERT_TRUE(dev.ok()) << dev.status();
  EXPECT_EQ((*dev)[0].label, 0);
  absl::StatusOr<std::vector<SentenceExample>> test = ReadFixture("WNLI", "test");
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ((*test)[0].text_a, "Maude and Dora had seen the trains rushing across the prairie.");
}

}  // namespace
}  // namespace cloze::tasks
