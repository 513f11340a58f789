#include "data/sentence_splitter.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "data/text_checks.h"

namespace cloze::data {
namespace {

// UTF-8 of the full-width terminators and of closing marks that may follow a terminator.
// 。！？ and the full-width full stop ． that some Chinese web editions use for 。.
constexpr std::array<std::string_view, 4> kCjkTerminators = {"\xE3\x80\x82", "\xEF\xBC\x81", "\xEF\xBC\x9F",
                                                             "\xEF\xBC\x8E"};
constexpr std::array<std::string_view, 10> kClosers = {
    "\"", "'", ")", "]", "\xE2\x80\x9D" /* ” */, "\xE2\x80\x99" /* ’ */, "\xE3\x80\x8D" /* 」 */,
    "\xE3\x80\x8F" /* 』 */, "\xEF\xBC\x89" /* ） */, "\xE3\x80\x8B" /* 》 */};
constexpr std::array<std::string_view, 12> kAbbreviations = {"Mr", "Mrs", "Ms", "Dr", "Prof", "St", "vs",
                                                             "etc", "e.g", "i.e", "Inc", "No"};

// Length of a closer starting at text[i], or 0.
size_t CloserAt(std::string_view text, size_t i) {
  for (std::string_view c : kClosers) {
    if (text.substr(i, c.size()) == c) return c.size();
  }
  return 0;
}

size_t CjkTerminatorAt(std::string_view text, size_t i) {
  for (std::string_view c : kCjkTerminators) {
    if (text.substr(i, c.size()) == c) return c.size();
  }
  return 0;
}

// The word ending just before position `end` (letters, digits and inner dots).
std::string_view WordBefore(std::string_view text, size_t end) {
  size_t start = end;
  while (start > 0 && (std::isalnum(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '.')) --start;
  return text.substr(start, end - start);
}

bool IsAbbreviation(std::string_view word) {
  if (word.size() == 1 && std::isupper(static_cast<unsigned char>(word[0]))) return true;
  return std::find(kAbbreviations.begin(), kAbbreviations.end(), word) != kAbbreviations.end();
}

void Emit(std::string_view sentence, std::vector<std::string>& out) {
  sentence = TrimAsciiSpace(sentence);
  if (!sentence.empty()) out.emplace_back(sentence);
}

}  // namespace

std::vector<std::string> SplitSentences(std::string_view text) {
  std::vector<std::string> sentences;
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const char c = text[i];
    size_t end = 0;  // one past the sentence's last byte, when a sentence ends here
    if (c == '\n') {
      Emit(text.substr(start, i - start), sentences);
      start = ++i;
      continue;
    }
    if (size_t n = CjkTerminatorAt(text, i); n > 0) {
      end = i + n;
      while (size_t k = CloserAt(text, end)) end += k;
    } else if ((c == '.' || c == '!' || c == '?') && !(c == '.' && IsAbbreviation(WordBefore(text, i)))) {
      end = i + 1;
      while (end < text.size() && (text[end] == '.' || text[end] == '!' || text[end] == '?')) ++end;
      while (size_t k = CloserAt(text, end)) end += k;
      if (end < text.size() && text[end] != ' ' && text[end] != '\t' && text[end] != '\n' && text[end] != '\r') {
        end = 0;  // "3.14", "example.com": not a sentence end
      }
    }
    if (end > 0) {
      Emit(text.substr(start, end - start), sentences);
      start = i = end;
    } else {
      ++i;
    }
  }
  Emit(text.substr(start), sentences);
  return sentences;
}

}  // namespace cloze::data
