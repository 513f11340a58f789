// Streams documents out of input files in the formats of input_format.h, skipping bad
// input.
//
// Each file's format is detected from its name and first 64 KiB (format_detection.h),
// or is the one the options name; the decision is kept per file for the summary. A UTF-8
// BOM at the start of a file and CR before LF are dropped. Folders are walked
// recursively; files are read in sorted path order, so the document sequence is a pure
// function of the inputs and options.
//
// Bad input is skipped and counted, never fatal: lines with invalid UTF-8, lines that
// look binary, lines longer than `max_line_bytes` (read past in bounded memory), JSON
// lines that do not parse or lack a string "text", and documents left empty. Only an
// unreadable or vanished input file, or an unknown format name, is an error (naming the
// file or the name).
//
// Memory: one line, one paragraph and one document at a time (a document is cut at
// `max_document_bytes`), whatever the file sizes. Not thread-safe; one reader thread
// drives it.
#ifndef CLOZE_DATA_DOCUMENT_SOURCE_H_
#define CLOZE_DATA_DOCUMENT_SOURCE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "data/document_assembler.h"
#include "data/format_detection.h"
#include "data/input_format.h"

namespace cloze::data {

struct SourceOptions {
  static constexpr int64_t kDefaultMaxLineBytes = 1 << 20;

  std::string format = "auto";  // "auto" (detect per file) or a name from InputFormatNames()
  bool chapters = false;        // wrapped, chinese: a document per chapter, not per file
  int64_t max_line_bytes = kDefaultMaxLineBytes;
  int64_t max_document_bytes = DocumentAssembler::kDefaultMaxDocumentBytes;
};

// The format a file was read in, and why.
struct FileFormat {
  std::string path;
  FormatDecision decision;  // reason "named by the user" when not detected
};

class DocumentSource {
 public:
  // Expands `paths` (files or folders) into the sorted list of files to read. Errors:
  // a path that does not exist, no files at all, an unknown options.format.
  static absl::StatusOr<std::unique_ptr<DocumentSource>> Open(const std::vector<std::string>& paths,
                                                              const SourceOptions& options = {});
  ~DocumentSource();

  // Fills *document with the next non-empty document; returns false at the end of all
  // input. An I/O error reading a file is returned (naming it); the source is then done.
  absl::StatusOr<bool> Next(Document* document);

  const InputStats& stats() const { return stats_; }
  const std::vector<std::string>& files() const { return files_; }
  // Index in files() of the file the document Next() returned last came from (documents
  // never span files). Meaningful only after Next() returned true.
  size_t last_file_index() const { return next_file_ - 1; }
  // One entry per file opened so far, in reading order.
  const std::vector<FileFormat>& file_formats() const { return file_formats_; }

 private:
  enum class LineResult { kLine, kOverlong, kEnd };

  DocumentSource(std::vector<std::string> files, const SourceOptions& options);
  absl::Status OpenNextFile();
  absl::StatusOr<FormatDecision> DecideFormat(const std::string& path);
  absl::StatusOr<LineResult> ReadLine(std::string* line);
  // A checked line: false when it was skipped (and counted).
  bool Usable(const std::string& line);
  // Reads lines into the assembler until a document is ready or the file ends (false).
  absl::StatusOr<bool> ReadUntilDocument();
  void CloseFile();

  std::vector<std::string> files_;
  SourceOptions options_;
  size_t next_file_ = 0;
  std::FILE* file_ = nullptr;
  bool first_line_ = false;
  std::unique_ptr<InputFormat> format_;
  std::vector<FileFormat> file_formats_;
  std::vector<char> buffer_;
  size_t buffer_pos_ = 0, buffer_end_ = 0;
  InputStats stats_;
  DocumentAssembler assembler_;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_DOCUMENT_SOURCE_H_
