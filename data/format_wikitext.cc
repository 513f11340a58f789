// wikitext: WikiText-2/103, tokenized or raw. " = Title = " starts an article,
// " = = Section = = " (any depth) is a heading; neither is a sentence, as BERT's Wikipedia
// preprocessing drops headers. Paragraph lines are split into sentences.
//
// A formula cut across lines can also look like a title ("… frequency of ωc" /
// "= 1 rad / s and a nominal impedance k =" / "1 Ω . This …"), so a title line after a
// line that ended mid-sentence and before a line starting with a digit is text.
#include <cctype>

#include "absl/strings/str_cat.h"
#include "data/format_markers.h"
#include "data/input_format.h"
#include "data/text_checks.h"

namespace cloze::data {
namespace {

class WikiTextFormat : public InputFormat {
 public:
  void Line(std::string_view line, DocumentAssembler& out) override {
    const std::string_view text = TrimAsciiSpace(line);
    if (text.empty()) return;
    if (!pending_title_.empty()) ResolveTitle(text, out);
    if (IsWikiTextTitle(text)) {
      pending_title_ = std::string(text);
      title_after_cut_ = previous_cut_;
      return;
    }
    previous_cut_ = false;
    if (text.starts_with("= =")) return;  // a section heading
    out.AddText(text);
    previous_cut_ = !EndsSentence(text);
  }

 private:
  // The line after a title-like line says whether it was one.
  void ResolveTitle(std::string_view next, DocumentAssembler& out) {
    if (title_after_cut_ && std::isdigit(static_cast<unsigned char>(next.front()))) {
      out.AddText(pending_title_);
    } else {
      out.EndDocument();
      const std::string_view title = TrimAsciiSpace(std::string_view(pending_title_).substr(1, pending_title_.size() - 2));
      out.SetProvenanceDetail(absl::StrCat("title=", std::string(title)));
    }
    pending_title_.clear();
  }

  std::string pending_title_;
  bool title_after_cut_ = false;
  bool previous_cut_ = false;  // the last text line ended mid-sentence
};

}  // namespace

std::unique_ptr<InputFormat> MakeWikiTextFormat() { return std::make_unique<WikiTextFormat>(); }

}  // namespace cloze::data
