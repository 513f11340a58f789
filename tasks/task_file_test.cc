#include "tasks/task_file.h"

#include <fstream>
#include <iterator>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tasks/testing/test_files.h"

namespace cloze::tasks {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::SourceFile;
using testing::WriteTempFile;

TEST(ReadTaskFile, PlainFilesAreReadAsTheyAre) {
  const std::string path = WriteTempFile("plain.txt", "a\r\nb\xEF\xBB\xBF\n");
  absl::StatusOr<std::string> text = ReadTaskFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "a\r\nb\xEF\xBB\xBF\n");
}

TEST(ReadTaskFile, XzWithConcatenatedStreams) {
  absl::StatusOr<std::string> text = ReadTaskFile(SourceFile("tasks/testdata/xz/two_streams.txt.xz"));
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "first stream\nsecond stream, \xC3\xBCn\xC3\xAF" "code\n");
}

TEST(ReadTaskFile, BrokenXzIsInvalidArgumentNamingTheFile) {
  const std::string not_xz = WriteTempFile("not.xz", "plain text, not xz\n");
  absl::StatusOr<std::string> text = ReadTaskFile(not_xz);
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()), AllOf(HasSubstr(not_xz), HasSubstr("not an .xz file")));

  std::ifstream file(SourceFile("tasks/testdata/xz/two_streams.txt.xz"), std::ios::binary);
  const std::string compressed((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  ASSERT_GT(compressed.size(), 40u);
  text = DecompressXz(compressed.substr(0, compressed.size() - 10), "cut.xz");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()), AllOf(HasSubstr("cut.xz"), HasSubstr("truncated")));

  std::string flipped = compressed;
  flipped[30] ^= 0x55;  // inside the first stream's compressed block, which its CRC covers
  text = DecompressXz(flipped, "flipped.xz");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(text.status().message()), AllOf(HasSubstr("flipped.xz"), HasSubstr("bad .xz file")));
}

TEST(ReadTaskFile, MissingFileIsNotFound) {
  absl::StatusOr<std::string> text = ReadTaskFile("/no/such/file.tsv");
  EXPECT_EQ(text.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(text.status().message()), HasSubstr("/no/such/file.tsv"));
}

TEST(StripUtf8Bom, OnlyALeadingBom) {
  EXPECT_EQ(StripUtf8Bom("\xEF\xBB\xBFid\tx"), "id\tx");
  EXPECT_EQ(StripUtf8Bom("id\xEF\xBB\xBF"), "id\xEF\xBB\xBF");
  EXPECT_EQ(StripUtf8Bom(""), "");
}

}  // namespace
}  // namespace cloze::tasks
