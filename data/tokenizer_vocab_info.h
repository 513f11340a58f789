// The VocabInfo (vocab_info.h) of a loaded tokenizer.
#ifndef CLOZE_DATA_TOKENIZER_VOCAB_INFO_H_
#define CLOZE_DATA_TOKENIZER_VOCAB_INFO_H_

#include "data/tokenizer.h"
#include "data/vocab_info.h"

namespace cloze::data {

// Special ids and the word-start table of every id, for example building and masking.
VocabInfo VocabInfoOf(const Tokenizer& tokenizer);

}  // namespace cloze::data

#endif  // CLOZE_DATA_TOKENIZER_VOCAB_INFO_H_
