// The few pieces of Python's Unicode string handling that SQuAD's official normalize_answer
// relies on, so that answers normalise here as they do in evaluate-v1.1.py / evaluate-v2.0.py:
// str.lower(), the whitespace str.split() splits on, and the `re` module's \w (where \b
// matches). The tables come from Python 3.11 / Unicode 14.0 (generate_unicode_tables.py).
//
// Matched exactly: every code point's lower-casing that Python maps to one code point (ASCII,
// Latin-1, Latin Extended-A/B and Additional, Greek, Cyrillic, Armenian, Georgian, Cherokee,
// fullwidth, Deseret, ... all of Unicode 14), U+0130 (İ -> "i" + U+0307), all 29 whitespace
// code points, and \w for every code point.
// Not matched: Python lower-cases a capital sigma at the end of a word to final sigma (ς);
// here it is always σ. Code points that later Unicode versions add are not lower-cased.
// Invalid UTF-8: each byte that does not start a valid sequence is kept as it is and counts as
// a word character (Python could not have decoded such input at all).
#ifndef CLOZE_EVAL_PYTHON_TEXT_H_
#define CLOZE_EVAL_PYTHON_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

namespace cloze::eval {

// One decoded unit of a UTF-8 string: a code point, or (valid == false) one invalid byte.
struct TextUnit {
  char32_t code_point = 0;
  bool valid = true;
};

std::vector<TextUnit> DecodeUtf8(std::string_view text);
void AppendUtf8(const TextUnit& unit, std::string* out);

// Python's chr(c).lower() appended to `out` (one code point, or two for U+0130).
void AppendPythonLower(char32_t c, std::vector<TextUnit>* out);
// chr(c).isspace(): what str.split() without arguments splits on.
bool IsPythonWhitespace(char32_t c);
// re.match(r"\w", chr(c)) on a str pattern: letters, digits, underscore, and the rest of
// Unicode's alphanumerics.
bool IsPythonWordCharacter(char32_t c);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_PYTHON_TEXT_H_
