// ICU's NFD and NFKD normalisers, shared by the tokenizers' text normalisation.
#ifndef CLOZE_DATA_ICU_NORMALIZERS_H_
#define CLOZE_DATA_ICU_NORMALIZERS_H_

#include <unicode/normalizer2.h>

namespace cloze::data {

// ICU's process-wide instances (thread-safe, never freed). Abort with a message when ICU's
// data library is missing: the installation is broken and no text can be normalised.
const icu::Normalizer2& NfdNormalizer();
const icu::Normalizer2& NfkdNormalizer();

}  // namespace cloze::data

#endif  // CLOZE_DATA_ICU_NORMALIZERS_H_
