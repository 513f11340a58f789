// The one way to include libsentencepiece's headers in cloze.
//
// They declare `namespace absl { using std::string_view; }` and name absl::string_view in
// their API. Debian's Abseil has its own absl::string_view class, so any translation unit
// that includes both sees two absl::string_view and fails to compile. Renaming the
// namespace while these headers are read keeps the two apart. The ABI is untouched: the
// alias names std::string_view itself, so the library's symbols are the ones declared.
#ifndef CLOZE_DATA_SENTENCEPIECE_HEADERS_H_
#define CLOZE_DATA_SENTENCEPIECE_HEADERS_H_

#define absl cloze_sentencepiece_absl
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#undef absl

#endif  // CLOZE_DATA_SENTENCEPIECE_HEADERS_H_
