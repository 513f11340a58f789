// Lines with a meaning of their own in some input formats: headings and licence markers.
// Shared by the formats (format_*.cc) and by format detection.
#ifndef CLOZE_DATA_FORMAT_MARKERS_H_
#define CLOZE_DATA_FORMAT_MARKERS_H_

#include <string_view>

namespace cloze::data {

// WikiText's article title, "= Title =" (already trimmed); "= = Section = =" is not one.
bool IsWikiTextTitle(std::string_view text);

// A Project Gutenberg marker line such as "*** START OF THE PROJECT GUTENBERG EBOOK X ***"
// or "***END OF THIS PROJECT GUTENBERG EBOOK X***", for `what` = "START OF" / "END OF".
bool IsGutenbergMarker(std::string_view text, std::string_view what);

// A Chinese novel's chapter heading (already trimmed): 第 + a numeral in Chinese or ASCII
// digits + 回, then a space or the end of the line ("第一回  甄士隐…", "第001回", "第一二零回").
bool IsChineseChapterHeading(std::string_view text);

// Ends with sentence-final punctuation (. ! ? : ; … and full-width 。！？．：), perhaps
// followed by closing quotes or brackets: a line that does not was cut mid-sentence.
bool EndsSentence(std::string_view text);

// Removes leading and trailing ASCII whitespace and ideographic spaces (U+3000), which
// Chinese text indents paragraphs with.
std::string_view TrimSpacesAndIdeographic(std::string_view text);

}  // namespace cloze::data

#endif  // CLOZE_DATA_FORMAT_MARKERS_H_
