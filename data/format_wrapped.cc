// wrapped: hard-wrapped prose such as Project Gutenberg books. Consecutive lines are
// joined into a paragraph (a blank line ends it) and paragraphs are split into sentences;
// otherwise every wrapped line would be a "sentence" and the sentence-order task would
// see fragments. Chapter headings ("CHAPTER IV.", "Chapter 4") are headers, not text;
// with `chapters` each one starts a new document, otherwise the file is one document.
#include <cctype>

#include "data/format_markers.h"
#include "data/input_format.h"
#include "data/text_checks.h"

namespace cloze::data {
namespace {

// A paragraph this long is flushed even without a blank line, so a file that has none
// still streams.
constexpr size_t kMaxParagraphBytes = 1 << 20;

// "CHAPTER I", "Chapter 12.", "CHAPTER XLII. The Fog": the word, then a numeral.
bool IsChapterHeading(std::string_view text) {
  if (!text.starts_with("CHAPTER ") && !text.starts_with("Chapter ")) return false;
  const char c = text.size() > 8 ? text[8] : '\0';
  return std::isdigit(static_cast<unsigned char>(c)) || std::string_view("IVXLC").find(c) != std::string_view::npos;
}

class WrappedFormat : public InputFormat {
 public:
  explicit WrappedFormat(const FormatOptions& options)
      : chapters_(options.chapters), in_text_(!options.gutenberg_markers) {}

  void Line(std::string_view line, DocumentAssembler& out) override {
    const std::string_view text = TrimAsciiSpace(line);
    if (!in_text_ || ended_) {
      in_text_ = in_text_ || IsGutenbergMarker(text, "START OF");
      return;
    }
    if (IsGutenbergMarker(text, "END OF")) {
      FlushParagraph(out);
      ended_ = true;
      return;
    }
    if (text.empty()) {
      FlushParagraph(out);
      return;
    }
    if (paragraph_.empty() && IsChapterHeading(text)) {
      if (chapters_) {
        out.EndDocument();
        out.SetProvenanceDetail(text);
      }
      heading_ = true;  // its continuation lines (a chapter title) are the heading too
      return;
    }
    if (heading_) return;
    if (!paragraph_.empty()) paragraph_ += ' ';
    paragraph_.append(text);
    if (paragraph_.size() >= kMaxParagraphBytes) FlushParagraph(out);
  }

  void EndOfFile(DocumentAssembler& out) override { FlushParagraph(out); }

 private:
  void FlushParagraph(DocumentAssembler& out) {
    heading_ = false;
    if (paragraph_.empty()) return;
    out.AddText(paragraph_);
    paragraph_.clear();
  }

  const bool chapters_;
  bool in_text_;        // past the Gutenberg header (or there is none)
  bool ended_ = false;  // at the Gutenberg footer
  bool heading_ = false;
  std::string paragraph_;
};

}  // namespace

std::unique_ptr<InputFormat> MakeWrappedFormat(const FormatOptions& options) {
  return std::make_unique<WrappedFormat>(options);
}

}  // namespace cloze::data
