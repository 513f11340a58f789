// Where input formats put what they read: sentences in, finished documents out.
//
// A format (input_format.h) calls AddSentence/AddText while it reads a document and
// EndDocument where one ends; DocumentSource pops the finished documents. A document that
// grows past `max_document_bytes` is closed at that sentence and the rest continues as a
// new document, so one huge file read as a single document cannot exhaust memory.
//
// Not thread-safe; one reader thread drives it.
#ifndef CLOZE_DATA_DOCUMENT_ASSEMBLER_H_
#define CLOZE_DATA_DOCUMENT_ASSEMBLER_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace cloze::data {

struct Document {
  std::vector<std::string> sentences;
  int64_t bytes = 0;       // sentence bytes, for block sizing
  std::string provenance;  // where it came from: "path", "path#id=12 title=…", "path#第三回…"
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
  int64_t split_documents = 0;  // documents cut at the size cap

  int64_t skipped_lines() const { return invalid_utf8_lines + binary_lines + overlong_lines + bad_json_lines; }
};

class DocumentAssembler {
 public:
  static constexpr int64_t kDefaultMaxDocumentBytes = 16 << 20;

  // `stats` must outlive the assembler; it counts empty, split and skipped input.
  DocumentAssembler(InputStats* stats, int64_t max_document_bytes = kDefaultMaxDocumentBytes)
      : stats_(stats), max_document_bytes_(max_document_bytes) {}

  // Appends one sentence (ASCII space trimmed; empty ones are dropped).
  void AddSentence(std::string_view sentence);
  // Appends `text` split into sentences by SplitSentences (sentence_splitter.h).
  void AddText(std::string_view text);
  // The current document had input (perhaps skipped as bad), so if it ends without a
  // sentence it counts as an empty document rather than as a gap between documents.
  void MarkInput() { had_input_ = true; }
  // Documents from here on come from `path` (their provenance until a format says more).
  void StartFile(std::string path);
  // Adds what the format knows of the current document's origin ("id=12 title=Anarchism")
  // to its provenance: "path#detail". Kept until the document ends.
  void SetProvenanceDetail(std::string_view detail);
  // Ends the current document: queued when it holds a sentence, counted as empty when it
  // had input but no sentence, dropped silently when it had nothing.
  void EndDocument();

  size_t current_sentences() const { return current_.sentences.size(); }
  InputStats& stats() { return *stats_; }

  bool has_ready() const { return !ready_.empty(); }
  // Moves the oldest finished document into *document; false when none is ready.
  bool Pop(Document* document);

 private:
  void Append(std::string sentence);  // trimmed, not empty

  InputStats* stats_;
  int64_t max_document_bytes_;
  std::string path_;
  Document current_;
  bool had_input_ = false;
  std::deque<Document> ready_;
};

}  // namespace cloze::data

#endif  // CLOZE_DATA_DOCUMENT_ASSEMBLER_H_
