// wikiextractor: WikiExtractor's output, each article between <doc id="…" url="…"
// title="…"> and </doc>. Its first line repeats the title (a header, dropped); the id and
// title become the provenance. Paragraph lines are split into sentences.
#include "absl/strings/str_cat.h"
#include "data/input_format.h"
#include "data/text_checks.h"

namespace cloze::data {
namespace {

// The value of `name="…"` in a <doc …> tag, or "".
std::string_view Attribute(std::string_view tag, std::string_view name) {
  const std::string key = std::string(name) + "=\"";
  size_t start = tag.find(key);
  while (start != std::string_view::npos && start > 0 && tag[start - 1] != ' ') start = tag.find(key, start + 1);
  if (start == std::string_view::npos) return {};
  start += key.size();
  const size_t end = tag.find('"', start);
  return end == std::string_view::npos ? std::string_view() : tag.substr(start, end - start);
}

class WikiExtractorFormat : public InputFormat {
 public:
  void Line(std::string_view line, DocumentAssembler& out) override {
    const std::string_view text = TrimAsciiSpace(line);
    if (text.empty()) return;
    if (text.starts_with("<doc ") || text == "<doc>") {
      out.EndDocument();
      title_ = std::string(Attribute(text, "title"));
      out.SetProvenanceDetail(absl::StrCat("id=", std::string(Attribute(text, "id")), " title=", title_));
      expect_title_ = true;
      return;
    }
    if (text == "</doc>") {
      out.EndDocument();
      expect_title_ = false;
      return;
    }
    const bool repeated_title = expect_title_ && text == title_;
    expect_title_ = false;
    if (!repeated_title) out.AddText(text);
  }

 private:
  std::string title_;
  bool expect_title_ = false;
};

}  // namespace

std::unique_ptr<InputFormat> MakeWikiExtractorFormat() { return std::make_unique<WikiExtractorFormat>(); }

}  // namespace cloze::data
