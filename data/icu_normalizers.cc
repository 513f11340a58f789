#include "data/icu_normalizers.h"

#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdio>
#include <cstdlib>

namespace cloze::data {
namespace {

using Getter = const icu::Normalizer2* (*)(UErrorCode&);

const icu::Normalizer2& Checked(Getter get, const char* name) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* instance = get(status);
  if (U_FAILURE(status)) {
    std::fprintf(stderr, "ICU %s unavailable: %s\n", name, u_errorName(status));
    std::abort();
  }
  return *instance;
}

}  // namespace

const icu::Normalizer2& NfdNormalizer() {
  static const icu::Normalizer2& nfd = Checked(icu::Normalizer2::getNFDInstance, "NFD");
  return nfd;
}

const icu::Normalizer2& NfkdNormalizer() {
  static const icu::Normalizer2& nfkd = Checked(icu::Normalizer2::getNFKDInstance, "NFKD");
  return nfkd;
}

std::vector<AlignedChar> DecomposeAligned(const icu::Normalizer2& decomposer,
                                          const std::vector<AlignedChar>& chars) {
  std::vector<AlignedChar> out;
  out.reserve(chars.size());
  icu::UnicodeString decomposition;
  for (const AlignedChar& a : chars) {
    if (a.c < 0x80 || !decomposer.getDecomposition(static_cast<UChar32>(a.c), decomposition)) {
      out.push_back(a);  // ASCII and most characters have no decomposition
      continue;
    }
    for (int32_t i = 0; i < decomposition.length(); i = decomposition.moveIndex32(i, 1)) {
      out.push_back({static_cast<char32_t>(decomposition.char32At(i)), a.origin});
    }
  }
  // Canonical ordering: within each run of non-starters, a stable sort by combining class.
  auto combining_class = [](const AlignedChar& a) -> uint8_t {
    return a.c < 0x300 ? 0 : u_getCombiningClass(static_cast<UChar32>(a.c));  // no marks below
  };
  for (size_t i = 1; i < out.size(); ++i) {
    const uint8_t ccc = combining_class(out[i]);
    if (ccc == 0) continue;
    for (size_t j = i; j > 0; --j) {
      const uint8_t before = combining_class(out[j - 1]);
      if (before <= ccc) break;
      std::swap(out[j - 1], out[j]);
    }
  }
  return out;
}

}  // namespace cloze::data
