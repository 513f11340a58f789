#include "data/utf8.h"

#include <unicode/utf8.h>

#include <cstdint>

namespace cloze::data {

char32_t NextCodePoint(std::string_view text, size_t* pos) {
  const auto* bytes = reinterpret_cast<const uint8_t*>(text.data());
  const int64_t length = static_cast<int64_t>(text.size());
  int64_t i = static_cast<int64_t>(*pos);
  UChar32 c;
  U8_NEXT(bytes, i, length, c);
  *pos = static_cast<size_t>(i);
  return c < 0 ? U'\uFFFD' : static_cast<char32_t>(c);
}

size_t NextCodePointStart(std::string_view text, size_t pos) {
  NextCodePoint(text, &pos);
  return pos;
}

size_t PreviousCodePointStart(std::string_view text, size_t pos) {
  // Back over continuation bytes to a lead byte whose sequence ends exactly at pos; else the
  // last byte alone was a code point of its own (U+FFFD for an invalid one).
  const size_t stop = pos >= 4 ? pos - 4 : 0;
  for (size_t i = pos - 1;; --i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) {
      return NextCodePointStart(text, i) == pos ? i : pos - 1;
    }
    if (i == stop) return pos - 1;
  }
}

void AppendUtf8(char32_t c, std::string* out) {
  uint8_t buffer[U8_MAX_LENGTH];
  int32_t length = 0;
  U8_APPEND_UNSAFE(buffer, length, static_cast<UChar32>(c));
  out->append(reinterpret_cast<const char*>(buffer), length);
}

bool IsCjkIdeograph(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

}  // namespace cloze::data
