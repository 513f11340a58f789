// ALBERT's text preprocessing, applied before the SentencePiece model ("spm-albert:" specs).
#ifndef CLOZE_DATA_ALBERT_NORMALIZER_H_
#define CLOZE_DATA_ALBERT_NORMALIZER_H_

#include <string>
#include <string_view>

#include "data/aligned_text.h"

namespace cloze::data {

// `text` as Hugging Face's AlbertTokenizer (do_lower_case=True, keep_accents=False,
// transformers 5) prepares it for the model, in this order:
//   1. every "``" and then every "''" becomes '"';
//   2. NFKD;
//   3. combining marks (General_Category M: Mn, Mc, Me) are removed: accents go;
//   4. lower-cased code point by code point (no final-sigma rule: "ΟΔΟΣ" -> "οδοσ");
//   5. runs of White_Space collapse to one ' ', none at either end.
// Google's original preprocess_text differs in two corners: Python's str.lower() maps a
// final capital sigma to "ς", and it removes only marks with a non-zero combining class.
// It also splits pieces like "9," into "9" and ","; neither Hugging Face nor cloze does.
// Invalid UTF-8 bytes become U+FFFD. Thread-safe.
std::string AlbertNormalize(std::string_view text);

// The same text, each byte aligned with the original bytes it came from: a '"' from "``"
// with both characters, every character of a decomposition with the decomposed one, the
// space of a collapsed run with the run's first whitespace character. Removed characters
// (marks, surplus whitespace) are covered by nothing.
AlignedText AlbertNormalizeAligned(std::string_view text);

}  // namespace cloze::data

#endif  // CLOZE_DATA_ALBERT_NORMALIZER_H_
