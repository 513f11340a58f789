#include "data/bert_basic_tokenizer.h"

#include <unicode/uchar.h>

#include <vector>

#include "data/icu_normalizers.h"
#include "data/utf8.h"

namespace cloze::data {
namespace {

bool HasCategory(char32_t c, uint32_t mask) { return (U_GET_GC_MASK(c) & mask) != 0; }

bool IsWhitespace(char32_t c) {
  return c == '\t' || c == '\n' || c == '\r' || HasCategory(c, U_GC_Z_MASK);
}

bool IsDropped(char32_t c) {
  if (c == 0 || c == 0xFFFD) return true;
  if (c == '\t' || c == '\n' || c == '\r') return false;
  return HasCategory(c, U_GC_CC_MASK | U_GC_CF_MASK | U_GC_CO_MASK | U_GC_CS_MASK);
}

bool IsAsciiPunctuation(char32_t c) {
  return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
         (c >= 123 && c <= 126);
}

bool IsPunctuation(char32_t c) { return IsAsciiPunctuation(c) || HasCategory(c, U_GC_P_MASK); }

// Collects one whitespace-delimited word, then normalises it and splits off punctuation.
class WordSplitter {
 public:
  explicit WordSplitter(absl::FunctionRef<void(const AlignedText&)> emit) : emit_(emit) {}

  void Add(const AlignedChar& a) {
    ascii_ = ascii_ && a.c < 0x80;
    word_.push_back(a);
  }

  void EndWord() {
    if (word_.empty()) return;
    if (ascii_) {  // NFD is the identity and there are no marks.
      for (const AlignedChar& a : word_) AddNormalized(a);
    } else {
      for (const AlignedChar& a : DecomposeAligned(NfdNormalizer(), word_)) {
        if (!HasCategory(a.c, U_GC_MN_MASK)) AddNormalized(a);
      }
    }
    Flush();
    word_.clear();
    ascii_ = true;
  }

 private:
  void AddNormalized(const AlignedChar& a) {
    const char32_t c = static_cast<char32_t>(u_tolower(static_cast<UChar32>(a.c)));
    if (IsPunctuation(c)) {
      Flush();
      token_.Append(c, a.origin);
      Flush();
    } else {
      token_.Append(c, a.origin);
    }
  }

  void Flush() {
    if (!token_.empty()) emit_(token_);
    token_.Clear();
  }

  absl::FunctionRef<void(const AlignedText&)> emit_;
  std::vector<AlignedChar> word_;
  bool ascii_ = true;
  AlignedText token_;
};

}  // namespace

void BertBasicTokenize(std::string_view text, absl::FunctionRef<void(const AlignedText&)> emit) {
  WordSplitter splitter(emit);
  for (size_t pos = 0; pos < text.size();) {
    const size_t begin = pos;
    const char32_t c = NextCodePoint(text, &pos);
    const AlignedChar a = {c, {begin, pos}};
    if (IsDropped(c)) continue;
    if (IsWhitespace(c)) {
      splitter.EndWord();
    } else if (IsCjkIdeograph(c)) {
      splitter.EndWord();
      splitter.Add(a);  // compatibility ideographs decompose to unified ones
      splitter.EndWord();
    } else {
      splitter.Add(a);
    }
  }
  splitter.EndWord();
}

}  // namespace cloze::data
