// Input formats on the real corpora of shared/data: the format each file is detected as,
// and document counts checked against counts known from the sources (the WikiText paper's
// 60 valid and 60 test articles, one document per book, 120/120/100 回 in the Chinese
// novels, 1,104 CMRC passages).
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "data/document_source.h"
#include "data/testing/shared_data.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

struct Corpus {
  int64_t documents = 0, sentences = 0;
  std::vector<FileFormat> formats;
  std::vector<std::string> provenance;  // of each document
  std::vector<std::string> first_sentences;  // of each document
  std::vector<std::string> all_sentences;    // when asked for
};

std::string Shared(const std::string& relative) {
  absl::StatusOr<std::string> path = testing::SharedDataPath(relative);
  EXPECT_TRUE(path.ok()) << path.status();
  return path.ok() ? *path : relative;
}

Corpus Read(const std::vector<std::string>& paths, const SourceOptions& options = {}, bool keep_sentences = false) {
  Corpus corpus;
  auto source = DocumentSource::Open(paths, options);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return corpus;
  Document document;
  while (true) {
    absl::StatusOr<bool> got = (*source)->Next(&document);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !*got) break;
    corpus.provenance.push_back(document.provenance);
    corpus.first_sentences.push_back(document.sentences.front());
    if (keep_sentences) {
      for (std::string& s : document.sentences) corpus.all_sentences.push_back(std::move(s));
    }
  }
  corpus.documents = (*source)->stats().documents;
  corpus.sentences = (*source)->stats().sentences;
  corpus.formats = (*source)->file_formats();
  EXPECT_EQ((*source)->stats().skipped_lines(), 0);
  return corpus;
}

void ExpectFormat(const Corpus& corpus, const std::string& format) {
  for (const FileFormat& f : corpus.formats) EXPECT_EQ(f.decision.format, format) << f.path << ": " << f.decision.reason;
}

TEST(CorpusFormats, WikiTextTokenizedAndRawHaveTheirArticles) {
  const Corpus valid = Read({Shared("wikitext-2/valid.txt")});
  ExpectFormat(valid, "wikitext");
  EXPECT_EQ(valid.documents, 60);
  EXPECT_EQ(valid.provenance.front(), Shared("wikitext-2/valid.txt") + "#title=Homarus gammarus");
  EXPECT_EQ(valid.first_sentences.front(),
            "Homarus gammarus , known as the European lobster or common lobster , is a species of <unk> lobster from "
            "the eastern Atlantic Ocean , Mediterranean Sea and parts of the Black Sea .");
  // Several sentences per paragraph line: far more sentences than the 2,461 lines.
  EXPECT_GT(valid.sentences, 8000);

  const Corpus test = Read({Shared("wikitext-2/test.txt")});
  ExpectFormat(test, "wikitext");
  EXPECT_EQ(test.documents, 60);  // 62 "= … =" lines: two are pieces of a formula
  const Corpus raw = Read({Shared("wikitext-2-raw/wiki.test.raw")});
  ExpectFormat(raw, "wikitext");
  EXPECT_EQ(raw.documents, 60);
  EXPECT_EQ(raw.provenance.front(), Shared("wikitext-2-raw/wiki.test.raw") + "#title=Robert Boulter");
  EXPECT_EQ(raw.first_sentences.front(), "Robert Boulter is an English film , television and theatre actor .");
}

TEST(CorpusFormats, GutenbergBooksAreOneDocumentEachWithoutLicence) {
  const std::string folder = ::testing::TempDir() + "/gutenberg";
  std::filesystem::create_directories(folder);
  const std::string unpack =
      absl::StrCat("xz -dc '", Shared("books/en-gutenberg.tar.xz"), "' | tar -xf - -C '", folder, "'");
  ASSERT_EQ(std::system(unpack.c_str()), 0) << unpack;
  const Corpus books = Read({folder + "/en-gutenberg"}, {}, /*keep_sentences=*/true);
  ASSERT_EQ(books.formats.size(), 28u);
  ExpectFormat(books, "wrapped");
  EXPECT_EQ(books.documents, 28);
  for (const std::string& sentence : books.all_sentences) {
    ASSERT_EQ(sentence.find("PROJECT GUTENBERG"), std::string::npos) << sentence;
    ASSERT_EQ(sentence.find("Project Gutenberg License"), std::string::npos) << sentence;
  }
  // Pride and Prejudice: the first sentence of the book, joined across its wrapped lines.
  bool found = false;
  for (const std::string& sentence : books.all_sentences) {
    found = found || sentence ==
                         "It is a truth universally acknowledged, that a single man in possession of a good fortune "
                         "must be in want of a wife.";
  }
  EXPECT_TRUE(found);
  // About 3.98 M words in about 200,000 sentences, not 440,000 wrapped lines.
  EXPECT_GT(books.sentences, 150000);
  EXPECT_LT(books.sentences, 300000);
}

TEST(CorpusFormats, ChineseNovelsByFileOrByChapter) {
  const std::vector<std::string> novels = {Shared("books/zh-classics/zh-hongloumeng.txt"),
                                           Shared("books/zh-classics/zh-sanguoyanyi.txt"),
                                           Shared("books/zh-classics/zh-xiyouji.txt")};
  const Corpus whole = Read(novels);
  ExpectFormat(whole, "chinese");
  EXPECT_EQ(whole.documents, 3);
  EXPECT_GT(whole.sentences, 40000);

  const std::vector<int64_t> chapters = {120, 120, 100};  // books/README.md
  for (size_t i = 0; i < novels.size(); ++i) {
    const Corpus by_chapter = Read({novels[i]}, {.chapters = true});
    EXPECT_EQ(by_chapter.documents, chapters[i]) << novels[i];
  }
}

TEST(CorpusFormats, CmrcPassagesAreADocumentPerLine) {
  const Corpus cmrc = Read({Shared("zh-cmrc2018/cmrc2018_dev_trial_contexts.txt")});
  ExpectFormat(cmrc, "lines");
  EXPECT_EQ(cmrc.documents, 1104);
  EXPECT_EQ(cmrc.first_sentences.front(), "《战国无双3》（）是由光荣和ω-force开发的战国无双系列的正统第三续作。");
}

// The demo corpus is already one sentence per line: detection must leave it as it was.
TEST(CorpusFormats, DemoCorpusStaysSentencePerLine) {
  const Corpus detected = Read({"corpus/demo"});
  ASSERT_EQ(detected.formats.size(), 3u);
  ExpectFormat(detected, "bert");
  const Corpus named = Read({"corpus/demo"}, {.format = "bert"});
  EXPECT_EQ(detected.documents, named.documents);
  EXPECT_EQ(detected.sentences, named.sentences);
}

}  // namespace
}  // namespace cloze::data
