// BERT's BasicTokenizer for uncased models: the split into words before WordPiece.
#ifndef CLOZE_DATA_BERT_BASIC_TOKENIZER_H_
#define CLOZE_DATA_BERT_BASIC_TOKENIZER_H_

#include <string_view>

#include "absl/functional/function_ref.h"
#include "data/aligned_text.h"

namespace cloze::data {

// Calls `emit` with each basic token of `text` in order (never an empty one; valid only
// during the call), each byte aligned with the original bytes it came from (a decomposed
// and lower-cased letter with its original character). As Hugging Face's BertNormalizer(clean_text,
// handle_chinese_chars, lowercase) and BertPreTokenizer (transformers 5 BertTokenizer):
//   - dropped: NUL, U+FFFD and "other" characters (Cc, Cf, Co, Cs; not unassigned Cn),
//     except \t \n \r, which are whitespace like every Z* character;
//   - each CJK ideograph (BERT's _is_chinese_char ranges) is a token of its own;
//   - the rest is NFD-decomposed, nonspacing marks (Mn) removed, lower-cased code point by
//     code point, split at whitespace, and every punctuation character (ASCII !"#$%&'()*+,-./
//     :;<=>?@[\]^_`{|}~ or any P* category) becomes a token of its own.
// Known differences from Hugging Face: its CJK table starts Extension E at U+2B920 instead
// of BERT's U+2B820, and its Unicode tables are older than ICU's, so characters assigned
// recently (e.g. new punctuation) may be classified differently. Invalid UTF-8 bytes count
// as U+FFFD. Thread-safe.
void BertBasicTokenize(std::string_view text, absl::FunctionRef<void(const AlignedText&)> emit);

}  // namespace cloze::data

#endif  // CLOZE_DATA_BERT_BASIC_TOKENIZER_H_
