// bert: BERT's own input, one sentence per line and a blank line between documents.
// Lines are taken as they are (not split again): whoever wrote the file split them.
#include "data/input_format.h"
#include "data/text_checks.h"

namespace cloze::data {
namespace {

class BertFormat : public InputFormat {
 public:
  void Line(std::string_view line, DocumentAssembler& out) override {
    const std::string_view text = TrimAsciiSpace(line);
    if (text.empty()) {
      out.EndDocument();
    } else {
      out.AddSentence(text);
    }
  }
};

}  // namespace

std::unique_ptr<InputFormat> MakeBertFormat() { return std::make_unique<BertFormat>(); }

}  // namespace cloze::data
