// Model inputs of a tagging task (one tag per word, e.g. POS): the words of a
// TaggedSentence tokenized one by one, each word's tag on its FIRST sub-token.
//
// Layout: `[CLS] w1-pieces w2-pieces ... [SEP]`, segment 0 throughout. Labels are tag
// indices on the first sub-token of each word and kIgnoredLabel on every other sub-token
// and on [CLS]/[SEP] (the loss skips them), as Hugging Face's token-classification
// examples do with label_all_tokens=False.
//
// Long sentences: a sentence whose tokens do not fit in max_seq_length is split into
// several features, each a window of WHOLE consecutive words packed greedily (as many as
// fit in max_seq_length - 2 tokens), without overlap: every word is in exactly one feature,
// so its prediction is read from that feature alone. A single word longer than the window
// keeps only its first max_seq_length - 2 sub-tokens (its label sits on the first one, so
// the word is still tagged).
#ifndef CLOZE_TASKS_TAGGING_FEATURES_H_
#define CLOZE_TASKS_TAGGING_FEATURES_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

// The label of a token the loss and the metrics ignore (PyTorch's ignore_index).
inline constexpr int32_t kIgnoredLabel = -100;

// One window of a sentence as the model reads it; every per-token list has the same length.
struct TaggingFeature {
  int64_t example_index = 0;            // the sentence's position in the featurised list
  int first_word = 0;                   // index in the sentence of the window's first word
  int num_words = 0;                    // words in this window: first_word .. + num_words - 1
  std::vector<int32_t> input_ids;       // [CLS] pieces [SEP]
  std::vector<int32_t> token_type_ids;  // all 0
  std::vector<int32_t> attention_mask;  // all 1 (padding is added later)
  // The tag index on each word's first sub-token, kIgnoredLabel elsewhere. All
  // kIgnoredLabel when the sentence has no tags (prediction input).
  std::vector<int32_t> labels;
  // For each token, the index IN THE SENTENCE of the word it belongs to; -1 for [CLS]/[SEP].
  std::vector<int32_t> word_of_token;
  // For each token, whether it is its word's first sub-token (where the word's tag is read).
  std::vector<bool> is_first_subtoken;
};

// The features of one sentence, in word order. Each word is encoded alone (Encode(word));
// a word that yields no ids (e.g. only characters the normaliser removes) becomes the
// tokenizer's unk id, so no word is lost. Tags map to indices through `tags` (the task's
// label list). An empty sentence gives no features. Errors (InvalidArgument, naming the
// sentence id and line): tags present but not one per word, a tag not in `tags`,
// max_seq_length < 3.
absl::StatusOr<std::vector<TaggingFeature>> TaggingFeatures(const TaggedSentence& sentence,
                                                            int64_t example_index,
                                                            const std::vector<std::string>& tags,
                                                            const data::Tokenizer& tokenizer,
                                                            int max_seq_length);

// TaggingFeatures of every sentence, concatenated, example_index the sentence's position.
absl::StatusOr<std::vector<TaggingFeature>> TaggingFeatures(
    const std::vector<TaggedSentence>& sentences, const std::vector<std::string>& tags,
    const data::Tokenizer& tokenizer, int max_seq_length);

// Per-word predictions of one sentence of `num_words` words from its features' per-token
// predicted tag indices (token_predictions[f] for features[f], at least as long as its
// input_ids; padding beyond is ignored): each word takes the prediction at its first
// sub-token. Words no feature covers get -1. InvalidArgument when the sizes disagree.
absl::StatusOr<std::vector<int32_t>> WordPredictions(
    const std::vector<TaggingFeature>& features,
    const std::vector<std::vector<int32_t>>& token_predictions, int num_words);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_TAGGING_FEATURES_H_
