// Byte-level checks on input lines, before anything is tokenized.
#ifndef CLOZE_DATA_TEXT_CHECKS_H_
#define CLOZE_DATA_TEXT_CHECKS_H_

#include <string_view>

namespace cloze::data {

// Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view text);

// Looks like binary data rather than text: holds a NUL byte or C0 control characters
// other than tab (a line has already lost its newline, and \r is stripped).
bool LooksBinary(std::string_view text);

// Removes `prefix` from the front of *text (`suffix` from its back) when it is there.
// (Debian's Abseil has its own string_view, so absl::ConsumePrefix does not take ours.)
bool ConsumePrefix(std::string_view* text, std::string_view prefix);
bool ConsumeSuffix(std::string_view* text, std::string_view suffix);

// Removes leading and trailing ASCII whitespace (including a CRLF's \r).
std::string_view TrimAsciiSpace(std::string_view text);

}  // namespace cloze::data

#endif  // CLOZE_DATA_TEXT_CHECKS_H_
