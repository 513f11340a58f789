// Rule-based sentence splitting, for every input format whose lines can hold more than
// one sentence (input_format.h).
#ifndef CLOZE_DATA_SENTENCE_SPLITTER_H_
#define CLOZE_DATA_SENTENCE_SPLITTER_H_

#include <string>
#include <string_view>
#include <vector>

namespace cloze::data {

// Splits a document into sentences. Newlines always end a sentence. Otherwise a
// sentence ends after 。！？． (Chinese and Japanese full-width marks, with any closing
// quotes or brackets after them), or after . ! ? (with closing quotes/brackets) when
// whitespace follows — except after a single capital letter ("J. Smith") or a common
// abbreviation ("Mr.", "e.g."). Sentences are trimmed; empty ones are dropped.
// `text` must be valid UTF-8.
std::vector<std::string> SplitSentences(std::string_view text);

}  // namespace cloze::data

#endif  // CLOZE_DATA_SENTENCE_SPLITTER_H_
