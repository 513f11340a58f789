#include "data/albert_normalizer.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <cstdlib>

#include "data/icu_normalizers.h"
#include "data/utf8.h"

namespace cloze::data {
namespace {


bool IsAscii(std::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// Step 1. Hugging Face replaces all "``" first, then all "''"; as the two patterns share no
// character, one left-to-right pass gives the same.
std::string ReplaceDoubledQuotes(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if ((text[i] == '`' || text[i] == '\'') && i + 1 < text.size() && text[i + 1] == text[i]) {
      out.push_back('"');
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Steps 3-5 for one code point of the NFKD text.
class Collector {
 public:
  explicit Collector(size_t capacity) { out_.reserve(capacity); }
  void Add(UChar32 c) {
    if (U_GET_GC_MASK(c) & U_GC_M_MASK) return;
    if (u_isUWhiteSpace(c)) {
      space_pending_ = !out_.empty();
      return;
    }
    if (space_pending_) out_.push_back(' ');
    space_pending_ = false;
    AppendUtf8(static_cast<char32_t>(u_tolower(c)), &out_);
  }
  std::string Take() && { return std::move(out_); }

 private:
  std::string out_;
  bool space_pending_ = false;
};

}  // namespace

std::string AlbertNormalize(std::string_view text) {
  const std::string quoted = ReplaceDoubledQuotes(text);
  Collector collector(quoted.size());
  if (IsAscii(quoted)) {  // NFKD is the identity on ASCII and there are no marks.
    for (char c : quoted) collector.Add(static_cast<unsigned char>(c));
    return std::move(collector).Take();
  }
  icu::UnicodeString decomposed = icu::UnicodeString::fromUTF8(quoted);
  UErrorCode status = U_ZERO_ERROR;
  decomposed = NfkdNormalizer().normalize(decomposed, status);
  for (int32_t i = 0; i < decomposed.length(); i = decomposed.moveIndex32(i, 1)) {
    collector.Add(decomposed.char32At(i));
  }
  return std::move(collector).Take();
}

}  // namespace cloze::data
