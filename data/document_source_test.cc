#include "data/document_source.h"

#include <filesystem>
#include <fstream>

#include "data/sentence_splitter.h"
#include "data/text_checks.h"
#include "gtest/gtest.h"

namespace cloze::data {
namespace {

std::string Write(const std::string& name, const std::string& bytes) {
  const std::string path = ::testing::TempDir() + "/document_source_test/" + name;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::vector<std::vector<std::string>> ReadAll(DocumentSource& source) {
  std::vector<std::vector<std::string>> documents;
  Document document;
  while (true) {
    absl::StatusOr<bool> got = source.Next(&document);
    EXPECT_TRUE(got.ok()) << got.status();
    if (!got.ok() || !*got) break;
    documents.push_back(document.sentences);
  }
  return documents;
}

TEST(TextChecks, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("中文。 ünïcödé 😀"));
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_TRUE(LooksBinary(std::string("a\0b", 3)));
  EXPECT_FALSE(LooksBinary("tab\tseparated"));
}

TEST(SentenceSplitter, EnglishAndChinese) {
  EXPECT_EQ(SplitSentences("Mr. Smith went to Washington. He paid $3.50! Was it \"fine?\" Yes"),
            (std::vector<std::string>{"Mr. Smith went to Washington.", "He paid $3.50!", "Was it \"fine?\"", "Yes"}));
  EXPECT_EQ(SplitSentences("今天天气很好。我们去公园吧！你来吗？“好的。”然后"),
            (std::vector<std::string>{"今天天气很好。", "我们去公园吧！", "你来吗？", "“好的。”", "然后"}));
  EXPECT_EQ(SplitSentences("line one\nline two\n\n"), (std::vector<std::string>{"line one", "line two"}));
  EXPECT_EQ(SplitSentences("Visit example.com today. J. R. R. Tolkien wrote it."),
            (std::vector<std::string>{"Visit example.com today.", "J. R. R. Tolkien wrote it."}));
  EXPECT_TRUE(SplitSentences("   ").empty());
}

TEST(DocumentSource, RawTextDocumentsAndCrlf) {
  const std::string path = Write("raw.txt", "first one.\r\nsecond.\r\n\r\n\r\nthird doc\n\n \nlast\n");
  auto source = DocumentSource::Open({path});
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(ReadAll(**source), (std::vector<std::vector<std::string>>{
                                   {"first one.", "second."}, {"third doc"}, {"last"}}));
  EXPECT_EQ((*source)->stats().documents, 3);
  EXPECT_EQ((*source)->stats().sentences, 4);
  EXPECT_EQ((*source)->stats().skipped_lines(), 0);
}

TEST(DocumentSource, JsonLines) {
  const std::string path = Write("docs.jsonl",
                                 "{\"text\": \"One. Two!\"}\n"
                                 "not json\n"
                                 "{\"title\": \"no text\"}\n"
                                 "{\"text\": 5}\n"
                                 "{\"text\": \"   \"}\n"
                                 "{\"text\": \"第一句。第二句\", \"id\": 7}\n");
  auto source = DocumentSource::Open({path});
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(ReadAll(**source), (std::vector<std::vector<std::string>>{{"One.", "Two!"}, {"第一句。", "第二句"}}));
  EXPECT_EQ((*source)->stats().bad_json_lines, 3);
  EXPECT_EQ((*source)->stats().empty_documents, 1);
}

// Junk is skipped and counted; good text around it survives.
TEST(DocumentSource, BadInputIsSkippedAndCounted) {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 131) % 256));
  const std::string huge(10 << 20, 'x');  // a 10 MB single line
  const std::string path = Write("bad.txt", "good start.\n" + std::string("bad \xFF\xFE utf8\n") + junk + "\n" +
                                               huge + "\nstill good.\n\n\xC3\n\nlast doc.");
  Write("empty.txt", "");
  auto source = DocumentSource::Open({::testing::TempDir() + "/document_source_test/bad.txt",
                                      ::testing::TempDir() + "/document_source_test/empty.txt"},
                                     {.max_line_bytes = 1 << 20});
  ASSERT_TRUE(source.ok()) << source.status();
  const auto documents = ReadAll(**source);
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0].front(), "good start.");
  EXPECT_EQ(documents[0].back(), "still good.");
  EXPECT_EQ(documents[1], std::vector<std::string>{"last doc."});
  const InputStats& stats = (*source)->stats();
  EXPECT_EQ(stats.overlong_lines, 1);
  EXPECT_GE(stats.invalid_utf8_lines + stats.binary_lines, 3);
  EXPECT_EQ(stats.empty_documents, 1);  // the document of only "\xC3"
  EXPECT_EQ(stats.files, 2);
}

TEST(DocumentSource, FoldersAreSortedAndMissingPathsNamed) {
  Write("folder/b.txt", "from b\n");
  Write("folder/a.txt", "from a\n");
  auto source = DocumentSource::Open({::testing::TempDir() + "/document_source_test/folder"});
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ(ReadAll(**source), (std::vector<std::vector<std::string>>{{"from a"}, {"from b"}}));
  auto missing = DocumentSource::Open({"/no/such/corpus.txt"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/no/such/corpus.txt"), std::string::npos);
}

}  // namespace
}  // namespace cloze::data
