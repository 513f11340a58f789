#include "eval/python_text.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace cloze::eval {
namespace {

struct LowerRun {
  char32_t first;
  char32_t last;
  int stride;
  int delta;
};

struct CodePointRange {
  char32_t first;
  char32_t last;
};

#include "eval/python_unicode_tables.inc"

constexpr char32_t kCapitalIWithDot = 0x0130;
constexpr char32_t kCombiningDotAbove = 0x0307;

// The length of the valid UTF-8 sequence at text[i], or 0 when it is not one (overlong forms,
// surrogates and code points past U+10FFFF included, as Python's strict decoder rejects them).
int ValidSequenceLength(std::string_view text, size_t i, char32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
  const uint8_t lead = byte(i);
  int length;
  char32_t c;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2, c = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3, c = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4, c = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (int k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    c = (c << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (length == 3 && c < 0x800) || (length == 4 && c < 0x10000);
  if (overlong || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) return 0;
  *code_point = c;
  return length;
}

}  // namespace

std::vector<TextUnit> DecodeUtf8(std::string_view text) {
  std::vector<TextUnit> units;
  units.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    char32_t c;
    const int length = ValidSequenceLength(text, i, &c);
    if (length == 0) {
      units.push_back({static_cast<char32_t>(static_cast<uint8_t>(text[i])), false});
      i += 1;
    } else {
      units.push_back({c, true});
      i += length;
    }
  }
  return units;
}

void AppendUtf8(const TextUnit& unit, std::string* out) {
  const char32_t c = unit.code_point;
  if (!unit.valid || c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

void AppendPythonLower(char32_t c, std::vector<TextUnit>* out) {
  if (c == kCapitalIWithDot) {
    out->push_back({U'i', true});
    out->push_back({kCombiningDotAbove, true});
    return;
  }
  // The runs are sorted by `first` and do not overlap: the last run starting at or before c.
  const auto after = std::upper_bound(
      std::begin(kLowerRuns), std::end(kLowerRuns), c,
      [](char32_t value, const LowerRun& run) { return value < run.first; });
  if (after != std::begin(kLowerRuns)) {
    const LowerRun& run = *std::prev(after);
    if (c <= run.last && (c - run.first) % run.stride == 0) {
      out->push_back({static_cast<char32_t>(static_cast<int64_t>(c) + run.delta), true});
      return;
    }
  }
  out->push_back({c, true});
}

bool IsPythonWhitespace(char32_t c) {
  return std::find(std::begin(kWhitespace), std::end(kWhitespace), c) != std::end(kWhitespace);
}

bool IsPythonWordCharacter(char32_t c) {
  const auto after = std::upper_bound(
      std::begin(kWordRanges), std::end(kWordRanges), c,
      [](char32_t value, const CodePointRange& range) { return value < range.first; });
  return after != std::begin(kWordRanges) && c <= std::prev(after)->last;
}

}  // namespace cloze::eval
