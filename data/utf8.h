// UTF-8 decoding and encoding of single code points, shared by the normalisers.
#ifndef CLOZE_DATA_UTF8_H_
#define CLOZE_DATA_UTF8_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace cloze::data {

// The code point starting at text[*pos], advancing *pos past it. Invalid or truncated
// sequences give U+FFFD and advance by at least one byte. Requires *pos < text.size().
char32_t NextCodePoint(std::string_view text, size_t* pos);

// Where the code point after the one at `pos` starts (requires pos < text.size()), and where
// the one ending at `pos` starts (requires pos > 0); invalid bytes as in NextCodePoint.
size_t NextCodePointStart(std::string_view text, size_t pos);
size_t PreviousCodePointStart(std::string_view text, size_t pos);

// BERT's _is_chinese_char: the CJK Unified Ideographs blocks (not Japanese kana or Hangul).
bool IsCjkIdeograph(char32_t c);

// Appends the UTF-8 encoding of `c` (a valid scalar value) to `out`.
void AppendUtf8(char32_t c, std::string* out);

}  // namespace cloze::data

#endif  // CLOZE_DATA_UTF8_H_
