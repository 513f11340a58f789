// ICU's NFD and NFKD normalisers, shared by the tokenizers' text normalisation.
#ifndef CLOZE_DATA_ICU_NORMALIZERS_H_
#define CLOZE_DATA_ICU_NORMALIZERS_H_

#include <unicode/normalizer2.h>

#include <vector>

#include "data/aligned_text.h"

namespace cloze::data {

// ICU's process-wide instances (thread-safe, never freed). Abort with a message when ICU's
// data library is missing: the installation is broken and no text can be normalised.
const icu::Normalizer2& NfdNormalizer();
const icu::Normalizer2& NfkdNormalizer();

// `chars` decomposed by `decomposer` (NfdNormalizer or NfkdNormalizer): each character fully
// decomposed on its own, then combining marks put in canonical order, as Unicode defines
// NFD/NFKD. The result's text equals decomposer.normalize(text of `chars`); every output
// character keeps the origin of the input character it came from ("ﬁ" -> "f" and "i", both
// with the ligature's span).
std::vector<AlignedChar> DecomposeAligned(const icu::Normalizer2& decomposer,
                                          const std::vector<AlignedChar>& chars);

}  // namespace cloze::data

#endif  // CLOZE_DATA_ICU_NORMALIZERS_H_
