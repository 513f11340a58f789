// paragraphs: a paragraph per line, blank lines between paragraphs of the same text; the
// file is one document, so its sentences stay together for sentence-order prediction.
#include "data/input_format.h"

namespace cloze::data {
namespace {

class ParagraphsFormat : public InputFormat {
 public:
  void Line(std::string_view line, DocumentAssembler& out) override { out.AddText(line); }
};

}  // namespace

std::unique_ptr<InputFormat> MakeParagraphsFormat() { return std::make_unique<ParagraphsFormat>(); }

}  // namespace cloze::data
