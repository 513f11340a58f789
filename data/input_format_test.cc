// Each input format and its detection on small hand-made files (the real corpora:
// corpus_formats_test.cc).
#include <filesystem>
#include <fstream>

#include "data/document_source.h"
#include "data/format_detection.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

using Documents = std::vector<std::vector<std::string>>;

std::string Write(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/input_format_test/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// Documents of `path`, with the format and the provenance of each document.
Documents Read(const std::string& path, const SourceOptions& options, std::string* format = nullptr,
               std::vector<std::string>* provenance = nullptr) {
  auto source = DocumentSource::Open({path}, options);
  EXPECT_TRUE(source.ok()) << source.status();
  if (!source.ok()) return {};
  Documents documents;
  Document document;
  while (true) {
    absl::StatusOr<bool> got = (*source)->Next(&document);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !*got) break;
    documents.push_back(document.sentences);
    if (provenance != nullptr) provenance->push_back(document.provenance);
  }
  if (format != nullptr) *format = (*source)->file_formats().at(0).decision.format;
  return documents;
}

TEST(InputFormat, WikiExtractorArticlesWithProvenance) {
  const std::string path = Write("wiki_00", "<doc id=\"12\" url=\"https://x/?curid=12\" title=\"Anarchism\">\n"
                                            "Anarchism\n\nAnarchism is a philosophy. It rejects rulers.\n</doc>\n"
                                            "<doc id=\"25\" url=\"u\" title=\"Autism\">\nAutism\n\nAutism is a condition.\n"
                                            "</doc>\n");
  std::string format;
  std::vector<std::string> provenance;
  EXPECT_EQ(Read(path, {}, &format, &provenance),
            (Documents{{"Anarchism is a philosophy.", "It rejects rulers."}, {"Autism is a condition."}}));
  EXPECT_EQ(format, "wikiextractor");
  EXPECT_EQ(provenance, (std::vector<std::string>{path + "#id=12 title=Anarchism", path + "#id=25 title=Autism"}));
}

TEST(InputFormat, WikiTextHeadingsAreNotSentences) {
  const std::string path = Write("wiki.txt", " \n = First = \n \n Intro one . Intro two . \n \n = = Part = = \n \n"
                                             " Body . \n \n = Second = \n \n Only line . \n");
  std::string format;
  EXPECT_EQ(Read(path, {}, &format), (Documents{{"Intro one .", "Intro two .", "Body ."}, {"Only line ."}}));
  EXPECT_EQ(format, "wikitext");
}

TEST(InputFormat, GutenbergBookWithoutLicenceAndByChapter) {
  const std::string book =
      "\xEF\xBB\xBFThe Project Gutenberg eBook of A Book\n\nThis eBook is for the use of anyone anywhere\n"
      "*** START OF THE PROJECT GUTENBERG EBOOK A BOOK ***\n\nCHAPTER I.\nThe Start\n\n"
      "It was a dark and stormy night; the rain fell in torrents, except at\n"
      "occasional intervals. Then it stopped.\n\nCHAPTER II.\n\nMorning came at last.\n\n"
      "*** END OF THE PROJECT GUTENBERG EBOOK A BOOK ***\nSection 1. General Terms of Use\n";
  const std::string path = Write("book.txt", book);
  std::string format;
  EXPECT_EQ(Read(path, {.format = "wrapped"}, &format),
            (Documents{{"It was a dark and stormy night; the rain fell in torrents, except at occasional intervals.",
                        "Then it stopped.", "Morning came at last."}}));
  std::vector<std::string> provenance;
  EXPECT_EQ(Read(path, {.chapters = true}, &format, &provenance).size(), 2u);
  EXPECT_EQ(format, "wrapped");  // detected from the START marker
  EXPECT_EQ(provenance, (std::vector<std::string>{path + "#CHAPTER I.", path + "#CHAPTER II."}));
}

TEST(InputFormat, ChineseChaptersSurviveRepeatedHeadings) {
  const std::string path = Write("novel.txt",
                                 "第001回　开篇\n\n第一回　开篇\n　　西游记--\n　　第一回　开篇\n"
                                 "　　诗曰：天地。他说：“好！”我们走吧？走．\n　　又一句。再一句。\n\n"
                                 "第二回  下回\n    第二回的话。结束了。最后一句。\n");
  EXPECT_EQ(Read(path, {.format = "chinese"}).size(), 1u);
  EXPECT_EQ(Read(path, {.format = "chinese", .chapters = true}),
            (Documents{{"西游记--", "诗曰：天地。", "他说：“好！”", "我们走吧？", "走．", "又一句。", "再一句。"},
                       {"第二回的话。", "结束了。", "最后一句。"}}));
}

TEST(InputFormat, JsonLinesKeepIdAndTitle) {
  const std::string path = Write("docs.jsonl", "{\"id\": 7, \"title\": \"T\", \"text\": \"One. Two.\"}\n");
  std::vector<std::string> provenance;
  EXPECT_EQ(Read(path, {}, nullptr, &provenance), (Documents{{"One.", "Two."}}));
  EXPECT_EQ(provenance, std::vector<std::string>{path + "#id=7 title=T"});
}

TEST(InputFormat, ParagraphsAndLines) {
  const std::string text = "First paragraph. It has two sentences.\n\nSecond one. Also two.\n";
  EXPECT_EQ(Read(Write("plain.txt", text), {}),
            (Documents{{"First paragraph.", "It has two sentences.", "Second one.", "Also two."}}));
  EXPECT_EQ(Read(Write("passages.txt", "Passage one. Two.\nPassage two. Three.\n"), {}),
            (Documents{{"Passage one.", "Two."}, {"Passage two.", "Three."}}));
}

TEST(InputFormat, HugeDocumentsAreCutAndUnknownFormatsNamed) {
  const std::string path = Write("long.txt", "One sentence.\nTwo sentence.\nThree sentence.\n");
  EXPECT_EQ(Read(path, {.format = "bert", .max_document_bytes = 20}).size(), 2u);
  auto source = DocumentSource::Open({path}, {.format = "markdown"});
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("markdown"), std::string::npos);
  EXPECT_NE(source.status().message().find("wikiextractor"), std::string::npos);
}

TEST(FormatDetection, DecisionsAndReasons) {
  EXPECT_EQ(DetectInputFormat("a.jsonl", "").format, "jsonl");
  EXPECT_EQ(DetectInputFormat("a.txt", "{\"text\": \"x\"}\n").format, "jsonl");
  EXPECT_EQ(DetectInputFormat("a.txt", "One sentence.\nAnother one.\n\nNew document.\n").format, "bert");
  // Tokenized text without punctuation is still one sentence per line, not wrapped prose.
  EXPECT_EQ(DetectInputFormat("a.txt", "a b c d e f g\nh i\nj k l m n o p q r s\nt u v\n").format, "bert");
  const FormatDecision wrapped = DetectInputFormat(
      "a.txt",
      "It was a dark and stormy night; the rain fell in torrents, except at\n"
      "occasional intervals, when it was checked by a violent gust of wind\n"
      "which swept up the streets (for it is in London that our scene lies),\n"
      "rattling along the housetops, and fiercely agitating the scanty flame\n"
      "of the lamps that struggled against the darkness.\n");
  EXPECT_EQ(wrapped.format, "wrapped");
  EXPECT_NE(wrapped.reason.find("mid-sentence"), std::string::npos);
}

}  // namespace
}  // namespace cloze::data
