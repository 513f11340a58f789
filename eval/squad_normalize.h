// SQuAD's answer normalisation, as normalize_answer in the official evaluate-v1.1.py and
// evaluate-v2.0.py (identical in both): lower-case (Python's str.lower), remove the ASCII
// punctuation of Python's string.punctuation  !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~  (underscore
// included; Unicode punctuation such as “ ” — ’ stays), replace the whole words a, an, the by
// a space (re.sub(r"\b(a|an|the)\b", " ", ...): a word is a maximal run of \w characters),
// then collapse whitespace (" ".join(text.split())). The order matters: "the_a" becomes "thea"
// and survives. See python_text.h for what of Python's Unicode handling is matched.
#ifndef CLOZE_EVAL_SQUAD_NORMALIZE_H_
#define CLOZE_EVAL_SQUAD_NORMALIZE_H_

#include <string>
#include <string_view>
#include <vector>

namespace cloze::eval {

// normalize_answer(text); UTF-8 in and out.
std::string NormalizeAnswer(std::string_view text);

// normalize_answer(text).split(): the tokens the F1 score counts. Empty for "" or when nothing
// is left after normalisation.
std::vector<std::string> NormalizedAnswerTokens(std::string_view text);

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_SQUAD_NORMALIZE_H_
