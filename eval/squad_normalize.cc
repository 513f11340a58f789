#include "eval/squad_normalize.h"

#include "absl/strings/str_join.h"
#include "eval/python_text.h"

namespace cloze::eval {
namespace {

// Python's string.punctuation: the 32 ASCII punctuation characters.
bool IsAsciiPunctuation(const TextUnit& unit) {
  const char32_t c = unit.code_point;
  return unit.valid && ((c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) ||
                        (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E));
}

bool IsWordCharacter(const TextUnit& unit) {
  return !unit.valid || IsPythonWordCharacter(unit.code_point);
}

bool IsWhitespace(const TextUnit& unit) {
  return unit.valid && IsPythonWhitespace(unit.code_point);
}

bool IsArticle(const std::vector<TextUnit>& text, size_t begin, size_t end) {
  std::u32string word;
  for (size_t i = begin; i < end; ++i) {
    if (!text[i].valid) return false;
    word.push_back(text[i].code_point);
  }
  return word == U"a" || word == U"an" || word == U"the";
}

}  // namespace

std::vector<std::string> NormalizedAnswerTokens(std::string_view text) {
  std::vector<TextUnit> lowered;
  for (const TextUnit& unit : DecodeUtf8(text)) {
    if (!unit.valid) {
      lowered.push_back(unit);
    } else if (!IsAsciiPunctuation(unit)) {
      // Lower-casing first and then dropping punctuation equals the official order: no
      // character lower-cases into or out of ASCII punctuation.
      AppendPythonLower(unit.code_point, &lowered);
    }
  }
  // \b(a|an|the)\b matches exactly the maximal runs of word characters spelling an article.
  std::vector<TextUnit> without_articles;
  for (size_t i = 0; i < lowered.size();) {
    if (!IsWordCharacter(lowered[i])) {
      without_articles.push_back(lowered[i++]);
      continue;
    }
    size_t end = i;
    while (end < lowered.size() && IsWordCharacter(lowered[end])) ++end;
    if (IsArticle(lowered, i, end)) {
      without_articles.push_back({U' ', true});
    } else {
      without_articles.insert(without_articles.end(), lowered.begin() + i, lowered.begin() + end);
    }
    i = end;
  }
  std::vector<std::string> tokens;
  std::string token;
  for (const TextUnit& unit : without_articles) {
    if (IsWhitespace(unit)) {
      if (!token.empty()) tokens.push_back(std::move(token));
      token.clear();
    } else {
      AppendUtf8(unit, &token);
    }
  }
  if (!token.empty()) tokens.push_back(std::move(token));
  return tokens;
}

std::string NormalizeAnswer(std::string_view text) {
  return absl::StrJoin(NormalizedAnswerTokens(text), " ");
}

}  // namespace cloze::eval
