// How the lines of one input file become documents and sentences.
//
// Each format is one small class behind InputFormat, in its own file (format_*.cc).
// DocumentSource reads a file line by line, skips and counts bad lines, and hands every
// other line to the file's format, which puts sentences and document ends into a
// DocumentAssembler. Which format a file gets is detected from its start
// (format_detection.h) unless the user names one.
//
//   bert           one sentence per line, a blank line between documents (BERT's input)
//   paragraphs     a paragraph per line, split into sentences; the file is one document
//   lines          a passage per line, split into sentences; each line is a document
//   wikitext       WikiText: "= Title =" starts an article, "= = Section = =" lines are
//                  headings and dropped, paragraphs split into sentences
//   wikiextractor  WikiExtractor: <doc id=… title=…> … </doc> around each article
//   wrapped        hard-wrapped prose (Project Gutenberg): lines joined into paragraphs,
//                  the text between "*** START OF" and "*** END OF" only, the file (or
//                  with `chapters`, each CHAPTER) a document
//   chinese        Chinese prose: paragraphs split after 。！？．, the file (or with
//                  `chapters`, each 第…回) a document
//   jsonl          JSON Lines: one document per line, its "text" split into sentences,
//                  "id"/"title" kept as provenance
#ifndef CLOZE_DATA_INPUT_FORMAT_H_
#define CLOZE_DATA_INPUT_FORMAT_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "data/document_assembler.h"

namespace cloze::data {

struct FormatOptions {
  bool chapters = false;  // wrapped, chinese: a document per chapter instead of per file
  // wrapped: the file has Project Gutenberg's markers; text before "*** START OF" and
  // from "*** END OF" on is licence header and footer, not the book.
  bool gutenberg_markers = false;
};

class InputFormat {
 public:
  virtual ~InputFormat() = default;
  // One line of the file without its line ending (CR removed): valid UTF-8, not binary,
  // perhaps blank.
  virtual void Line(std::string_view line, DocumentAssembler& out) = 0;
  // A line that was skipped as bad input (counted by the source).
  virtual void SkippedLine(DocumentAssembler& out) { out.MarkInput(); }
  // The file ended: flush what is pending. The source ends the document afterwards.
  virtual void EndOfFile(DocumentAssembler& out) {}
};

// The names above, in that order.
const std::vector<std::string>& InputFormatNames();

// The format called `name`; InvalidArgument naming the known formats otherwise.
absl::StatusOr<std::unique_ptr<InputFormat>> MakeInputFormat(std::string_view name, const FormatOptions& options);

// One factory per format file.
std::unique_ptr<InputFormat> MakeBertFormat();
std::unique_ptr<InputFormat> MakeParagraphsFormat();
std::unique_ptr<InputFormat> MakeLinesFormat();
std::unique_ptr<InputFormat> MakeWikiTextFormat();
std::unique_ptr<InputFormat> MakeWikiExtractorFormat();
std::unique_ptr<InputFormat> MakeWrappedFormat(const FormatOptions& options);
std::unique_ptr<InputFormat> MakeChineseFormat(const FormatOptions& options);
std::unique_ptr<InputFormat> MakeJsonLinesFormat();

}  // namespace cloze::data

#endif  // CLOZE_DATA_INPUT_FORMAT_H_
