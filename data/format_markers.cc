#include "data/format_markers.h"

#include "data/text_checks.h"

namespace cloze::data {
namespace {

constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";  // U+3000

bool IsAsciiSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

}  // namespace

bool IsWikiTextTitle(std::string_view text) {
  return text.size() >= 5 && text.starts_with("= ") && text.ends_with(" =") &&
         !text.starts_with("= =");
}

bool IsGutenbergMarker(std::string_view text, std::string_view what) {
  if (!ConsumePrefix(&text, "***")) return false;
  return TrimAsciiSpace(text).starts_with(what);
}

bool IsChineseChapterHeading(std::string_view text) {
  static constexpr std::string_view kNumerals[] = {"〇", "零", "一", "二", "三", "四", "五", "六",
                                                   "七", "八", "九", "十", "百", "千", "两"};
  if (!ConsumePrefix(&text, "第")) return false;
  bool any = false;
  while (!text.empty()) {
    if (text.front() >= '0' && text.front() <= '9') {
      text.remove_prefix(1);
      any = true;
      continue;
    }
    bool numeral = false;
    for (std::string_view n : kNumerals) numeral = numeral || ConsumePrefix(&text, n);
    if (!numeral) break;
    any = true;
  }
  if (!any || !ConsumePrefix(&text, "回")) return false;
  return text.empty() || IsAsciiSpace(text.front()) || text.starts_with(kIdeographicSpace);
}

bool EndsSentence(std::string_view text) {
  static constexpr std::string_view kClosers[] = {"\"", "'", ")", "]", "_", "”", "’", "」", "』", "）", "》"};
  static constexpr std::string_view kEnds[] = {".", "!", "?", ":", ";", "。", "！", "？", "．", "…", "："};
  for (bool stripped = true; stripped;) {
    stripped = false;
    for (std::string_view c : kClosers) stripped = stripped || ConsumeSuffix(&text, c);
  }
  for (std::string_view e : kEnds) {
    if (text.ends_with(e)) return true;
  }
  return false;
}

std::string_view TrimSpacesAndIdeographic(std::string_view text) {
  while (true) {
    if (!text.empty() && IsAsciiSpace(text.front())) {
      text.remove_prefix(1);
    } else if (!ConsumePrefix(&text, kIdeographicSpace)) {
      break;
    }
  }
  while (true) {
    if (!text.empty() && IsAsciiSpace(text.back())) {
      text.remove_suffix(1);
    } else if (!ConsumeSuffix(&text, kIdeographicSpace)) {
      break;
    }
  }
  return text;
}

}  // namespace cloze::data
