#include "data/aligned_text.h"

#include <algorithm>

#include "data/utf8.h"

namespace cloze::data {

std::vector<AlignedChar> AlignedCodePoints(std::string_view text) {
  std::vector<AlignedChar> chars;
  chars.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t begin = pos;
    const char32_t c = NextCodePoint(text, &pos);
    chars.push_back({c, {begin, pos}});
  }
  return chars;
}

void AlignedText::Append(char32_t c, ByteSpan origin) {
  AppendUtf8(c, &text_);
  if (track_origins_) origins_.resize(text_.size(), origin);
}

void AlignedText::Clear() {
  text_.clear();
  origins_.clear();
}

ByteSpan AlignedText::OriginOf(size_t begin, size_t end, size_t end_of_original) const {
  if (begin == end) {
    const size_t at = begin < origins_.size() ? origins_[begin].begin : end_of_original;
    return {at, at};
  }
  // Canonical reordering can put a later character first, hence min and max.
  ByteSpan span = origins_[begin];
  for (size_t i = begin + 1; i < end; ++i) {
    span.begin = std::min(span.begin, origins_[i].begin);
    span.end = std::max(span.end, origins_[i].end);
  }
  return span;
}

}  // namespace cloze::data
