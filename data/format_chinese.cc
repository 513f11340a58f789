// chinese: Chinese prose (novels, web text). Each line is a paragraph, indented with
// ASCII or ideographic spaces, split into sentences after 。！？． and their closing quotes
// (sentence_splitter.h). Chapter headings (第一回, 第一二零回, 第001回 …) are headers, not
// text; with `chapters` each starts a new document, otherwise the file is one document.
// Some web editions repeat a heading before the chapter's text, so a heading starts a new
// document only once the current one has a few sentences.
#include "data/format_markers.h"
#include "data/input_format.h"

namespace cloze::data {
namespace {

constexpr size_t kMinChapterSentences = 3;

class ChineseFormat : public InputFormat {
 public:
  explicit ChineseFormat(const FormatOptions& options) : chapters_(options.chapters) {}

  void Line(std::string_view line, DocumentAssembler& out) override {
    const std::string_view text = TrimSpacesAndIdeographic(line);
    if (text.empty()) return;
    if (!IsChineseChapterHeading(text)) {
      out.AddText(text);
      return;
    }
    if (!chapters_) return;
    if (out.current_sentences() >= kMinChapterSentences) out.EndDocument();
    if (out.current_sentences() == 0) out.SetProvenanceDetail(text);
  }

 private:
  const bool chapters_;
};

}  // namespace

std::unique_ptr<InputFormat> MakeChineseFormat(const FormatOptions& options) {
  return std::make_unique<ChineseFormat>(options);
}

}  // namespace cloze::data
