#include "data/data_health.h"

#include "gtest/gtest.h"

namespace cloze::data {
namespace {

CorpusHealth Health(int64_t documents, int64_t sentences, int64_t one_sentence, int64_t examples, int64_t tokens,
                    int64_t label_1) {
  CorpusHealth h;
  h.corpus.set_documents(documents);
  h.corpus.set_sentences(sentences);
  h.corpus.set_one_sentence_chunks(one_sentence);
  h.examples = examples;
  h.tokens = tokens;
  h.sentence_label_1 = label_1;
  h.max_seq_length = 512;
  return h;
}

TEST(DataHealth, HealthyCorpusHasNoWarning) {
  const CorpusHealth h = Health(60, 8332, 10, 576, 278739, 276);
  EXPECT_NEAR(h.fill(), 0.945, 0.001);
  EXPECT_TRUE(HealthWarnings(h).empty());
  const std::vector<std::string> lines = HealthLines(h);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "documents: 60, 138.9 sentences and 4646 example tokens per document");
  EXPECT_EQ(lines[1], "fill: 94.5% (483.9 tokens per example of 512)");
}

// cloze inspect --limit scans a sample, but the corpus counts are the whole dataset's: the
// per-document figures scale the sample up (a 100-example sample of a 54,995-example dataset
// once read "1329.0% of examples from one-sentence chunks").
TEST(DataHealth, SampleScaledToTheWholeDataset) {
  CorpusHealth h = Health(91, 338547, 1329, 100, 12389, 47);
  h.dataset_examples = 54995;
  EXPECT_NEAR(h.one_sentence_share(), 1329.0 / 54995, 1e-12);
  EXPECT_NEAR(h.tokens_per_document(), 123.89 * 54995 / 91, 1e-6);
  const std::vector<std::string> lines = HealthLines(h);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], "documents: 91, 3720.3 sentences and 74872 example tokens per document");
  EXPECT_EQ(lines[2], "sentence labels: 47.0% swapped (2.4% of examples from one-sentence chunks)");
}

// WikiText-2 read one paragraph per document, as before input formats (issue 16).
TEST(DataHealth, ShortDocumentsNameTheCause) {
  const std::vector<std::string> warnings = HealthWarnings(Health(1160, 2461, 1700, 2100, 572670, 1722));
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("fill 53.3% is below 70%: documents are short"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("sentence labels 82.0% swapped, outside 40-60%"), std::string::npos) << warnings[1];
  EXPECT_NE(warnings[1].find("81% of examples come from a chunk of one sentence"), std::string::npos) << warnings[1];
}

TEST(DataHealth, UnrecordedCorpusStillReportsFillAndBalance) {
  CorpusHealth h = Health(0, 0, 0, 1000, 100000, 500);
  EXPECT_EQ(HealthLines(h)[0], "documents: not recorded (prepared before cloze recorded them)");
  ASSERT_EQ(HealthWarnings(h).size(), 1u);
  EXPECT_NE(HealthWarnings(h)[0].find("--short_seq_prob"), std::string::npos);
}

}  // namespace
}  // namespace cloze::data
