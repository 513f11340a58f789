// Loads libcloze_sentencepiece.so (sentencepiece_api.h) from the copy embedded in this
// program, once per process.
#ifndef CLOZE_DATA_SENTENCEPIECE_LIBRARY_H_
#define CLOZE_DATA_SENTENCEPIECE_LIBRARY_H_

#include "absl/status/statusor.h"
#include "data/sentencepiece_api.h"

namespace cloze::data {

// The function table, or an Internal error saying why the library could not be loaded.
// Thread-safe; the first call loads (from a memfd, so no file has to be found or written).
absl::StatusOr<const SentencePieceApi*> SentencePieceLibrary();

}  // namespace cloze::data

#endif  // CLOZE_DATA_SENTENCEPIECE_LIBRARY_H_
