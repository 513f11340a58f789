#include "data/document_assembler.h"

#include "absl/strings/str_cat.h"
#include "data/sentence_splitter.h"
#include "data/text_checks.h"

namespace cloze::data {

void DocumentAssembler::AddSentence(std::string_view sentence) {
  sentence = TrimAsciiSpace(sentence);
  if (!sentence.empty()) Append(std::string(sentence));
}

void DocumentAssembler::AddText(std::string_view text) {
  for (std::string& sentence : SplitSentences(text)) Append(std::move(sentence));
}

void DocumentAssembler::Append(std::string sentence) {
  had_input_ = true;
  current_.bytes += static_cast<int64_t>(sentence.size());
  current_.sentences.push_back(std::move(sentence));
  if (current_.bytes >= max_document_bytes_) {
    std::string provenance = current_.provenance;
    EndDocument();
    ++stats_->split_documents;
    current_.provenance = std::move(provenance);  // the rest is still the same source
  }
}

void DocumentAssembler::StartFile(std::string path) {
  path_ = std::move(path);
  current_.provenance = path_;
}

void DocumentAssembler::SetProvenanceDetail(std::string_view detail) {
  current_.provenance = absl::StrCat(path_, "#", std::string(detail));
}

void DocumentAssembler::EndDocument() {
  if (!current_.sentences.empty()) {
    ready_.push_back(std::move(current_));
  } else if (had_input_) {
    ++stats_->empty_documents;
  }
  current_ = Document();
  current_.provenance = path_;
  had_input_ = false;
}

bool DocumentAssembler::Pop(Document* document) {
  if (ready_.empty()) return false;
  *document = std::move(ready_.front());
  ready_.pop_front();
  return true;
}

}  // namespace cloze::data
