#include "data/icu_normalizers.h"

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

}  // namespace cloze::data
