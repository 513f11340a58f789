#include "data/bert_basic_tokenizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <cstdlib>
#include <string>

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
  explicit WordSplitter(absl::FunctionRef<void(std::string_view)> emit) : emit_(emit) {}

  void Add(char32_t c) {
    ascii_ = ascii_ && c < 0x80;
    word_.append(static_cast<UChar32>(c));
  }

  void EndWord() {
    if (word_.isEmpty()) return;
    if (ascii_) {  // NFD is the identity and there are no marks.
      for (int32_t i = 0; i < word_.length(); ++i) AddNormalized(word_.charAt(i));
    } else {
      UErrorCode status = U_ZERO_ERROR;
      const icu::UnicodeString decomposed = NfdNormalizer().normalize(word_, status);
      for (int32_t i = 0; i < decomposed.length(); i = decomposed.moveIndex32(i, 1)) {
        const UChar32 c = decomposed.char32At(i);
        if (!HasCategory(c, U_GC_MN_MASK)) AddNormalized(c);
      }
    }
    Flush();
    word_.remove();
    ascii_ = true;
  }

 private:
  void AddNormalized(UChar32 c) {
    c = u_tolower(c);
    if (IsPunctuation(c)) {
      Flush();
      AppendUtf8(c, &token_);
      Flush();
    } else {
      AppendUtf8(c, &token_);
    }
  }

  void Flush() {
    if (!token_.empty()) emit_(token_);
    token_.clear();
  }

  absl::FunctionRef<void(std::string_view)> emit_;
  icu::UnicodeString word_;
  bool ascii_ = true;
  std::string token_;
};

}  // namespace

void BertBasicTokenize(std::string_view text, absl::FunctionRef<void(std::string_view)> emit) {
  WordSplitter splitter(emit);
  for (size_t pos = 0; pos < text.size();) {
    const char32_t c = NextCodePoint(text, &pos);
    if (IsDropped(c)) continue;
    if (IsWhitespace(c)) {
      splitter.EndWord();
    } else if (IsCjkIdeograph(c)) {
      splitter.EndWord();
      splitter.Add(c);  // compatibility ideographs decompose to unified ones
      splitter.EndWord();
    } else {
      splitter.Add(c);
    }
  }
  splitter.EndWord();
}

}  // namespace cloze::data
