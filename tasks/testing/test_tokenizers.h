// The two real tokenizers of the tasks/ feature tests, loaded from shared/data.
#ifndef CLOZE_TASKS_TESTING_TEST_TOKENIZERS_H_
#define CLOZE_TASKS_TESTING_TEST_TOKENIZERS_H_

#include <memory>
#include <string>

#include "data/tokenizer.h"

namespace cloze::tasks::testing {

// "albert": spm-albert:albert-base-v2-spiece.model; "bert": wordpiece:bert-base-uncased-vocab.txt.
// Fails the current test (ADD_FAILURE) and returns null when it cannot be loaded.
std::unique_ptr<data::Tokenizer> SharedTokenizer(const std::string& name);

}  // namespace cloze::tasks::testing

#endif  // CLOZE_TASKS_TESTING_TEST_TOKENIZERS_H_
