#include "data/albert_normalizer.h"

#include <unicode/uchar.h>

#include <utility>
#include <vector>

#include "data/icu_normalizers.h"

namespace cloze::data {
namespace {

// Step 1. Hugging Face replaces all "``" first, then all "''"; as the two patterns share no
// character, one left-to-right pass gives the same.
std::vector<AlignedChar> ReplaceDoubledQuotes(std::vector<AlignedChar> chars) {
  size_t kept = 0;
  for (size_t i = 0; i < chars.size(); ++i, ++kept) {
    const char32_t c = chars[i].c;
    if ((c == '`' || c == '\'') && i + 1 < chars.size() && chars[i + 1].c == c) {
      chars[kept] = {'"', {chars[i].origin.begin, chars[i + 1].origin.end}};
      ++i;
    } else {
      chars[kept] = chars[i];
    }
  }
  chars.resize(kept);
  return chars;
}

// Steps 3-5 for one character of the NFKD text.
class Collector {
 public:
  explicit Collector(bool track_origins) : out_(track_origins) {}
  void Add(const AlignedChar& a) {
    if (U_GET_GC_MASK(a.c) & U_GC_M_MASK) return;
    if (u_isUWhiteSpace(a.c)) {
      if (!space_pending_ && !out_.empty()) space_origin_ = a.origin;
      space_pending_ = !out_.empty();
      return;
    }
    if (space_pending_) out_.Append(' ', space_origin_);
    space_pending_ = false;
    out_.Append(static_cast<char32_t>(u_tolower(a.c)), a.origin);
  }
  AlignedText Take() && { return std::move(out_); }

 private:
  AlignedText out_;
  bool space_pending_ = false;
  ByteSpan space_origin_;
};

AlignedText Normalize(std::string_view text, bool track_origins) {
  Collector collector(track_origins);
  for (const AlignedChar& a :
       DecomposeAligned(NfkdNormalizer(), ReplaceDoubledQuotes(AlignedCodePoints(text)))) {
    collector.Add(a);
  }
  return std::move(collector).Take();
}

}  // namespace

AlignedText AlbertNormalizeAligned(std::string_view text) { return Normalize(text, true); }

std::string AlbertNormalize(std::string_view text) { return Normalize(text, false).text(); }

}  // namespace cloze::data
