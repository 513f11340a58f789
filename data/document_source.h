// Streams documents out of raw-text and JSON Lines files, skipping bad input.
//
// Raw text (any file not ending in .jsonl): one sentence per line, a blank line between
// documents; CRLF is accepted. JSON Lines (.jsonl): one document per line, its "text"
// field split into sentences by SplitSentences. Folders are walked recursively; files
// are read in sorted path order, so the document sequence is a pure function of the
// inputs.
//
// Bad input is skipped and counted, never fatal: lines with invalid UTF-8, lines that
// look binary, lines longer than `max_line_bytes` (read past in bounded memory), JSON
// lines that do not parse or lack a string "text", and documents left empty. Only an
// unreadable or vanished input file is an error (naming the file).
//
// Memory: one line and one document at a time, whatever the file sizes.
// Not thread-safe; one reader thread drives it.
#ifndef CLOZE_DATA_DOCUMENT_SOURCE_H_
#define CLOZE_DATA_DOCUMENT_SOURCE_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cloze::data {

struct Document {
  std::vector<std::string> sentences;
  int64_t bytes = 0;  // sentence bytes, for block sizing
};

struct InputStats {
  int64_t files = 0;
  int64_t bytes = 0;  // bytes read, including skipped lines
  int64_t lines = 0;
  int64_t documents = 0;  // non-empty documents produced
  int64_t sentences = 0;
  int64_t invalid_utf8_lines = 0;
  int64_t binary_lines = 0;
  int64_t overlong_lines = 0;
  int64_t bad_json_lines = 0;
  int64_t empty_documents = 0;  // documents with no usable sentence (blank-line runs excluded)

  int64_t skipped_lines() const { return invalid_utf8_lines + binary_lines + overlong_lines + bad_json_lines; }
};

class DocumentSource {
 public:
  static constexpr int64_t kDefaultMaxLineBytes = 1 << 20;

  // Expands `paths` (files or folders) into the sorted list of files to read. Errors:
  // a path that does not exist, or no files at all.
  static absl::StatusOr<std::unique_ptr<DocumentSource>> Open(const std::vector<std::string>& paths,
                                                              int64_t max_line_bytes = kDefaultMaxLineBytes);
  ~DocumentSource();

  // Fills *document with the next non-empty document; returns false at the end of all
  // input. An I/O error reading a file is returned (naming it); the source is then done.
  absl::StatusOr<bool> Next(Document* document);

  const InputStats& stats() const { return stats_; }
  const std::vector<std::string>& files() const { return files_; }

 private:
  enum class LineResult { kLine, kOverlong, kEnd };

  DocumentSource(std::vector<std::string> files, int64_t max_line_bytes);
  absl::Status OpenNextFile();
  absl::StatusOr<LineResult> ReadLine(std::string* line);
  // A checked line: false when it was skipped (and counted).
  bool Usable(const std::string& line);
  absl::StatusOr<bool> NextRaw(Document* document);
  absl::StatusOr<bool> NextJsonLines(Document* document);

  std::vector<std::string> files_;
  size_t next_file_ = 0;
  std::FILE* file_ = nullptr;
  bool jsonl_ = false;
  int64_t max_line_bytes_;
  std::vector<char> buffer_;
  size_t buffer_pos_ = 0, buffer_end_ = 0;
  InputStats stats_;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_DOCUMENT_SOURCE_H_
