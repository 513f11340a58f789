// Model inputs of the sentence and sentence-pair tasks (classification and regression):
// the token ids, segment ids and attention mask of one example, with its target.
//
// Layout as BERT/ALBERT were pretrained: `[CLS] a [SEP]` (segment 0) or
// `[CLS] a [SEP] b [SEP]` (segment 0 up to and including the first [SEP], 1 after), with
// the tokenizer's own cls/sep ids. Sequences are unpadded: batching pads them elsewhere.
#ifndef CLOZE_TASKS_FEATURES_H_
#define CLOZE_TASKS_FEATURES_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

// One example as the model reads it; the three token lists have the same length.
struct SequenceFeature {
  int64_t example_index = 0;            // position of its example in the featurised list
  std::vector<int32_t> input_ids;       // [CLS] a [SEP] (b [SEP])
  std::vector<int32_t> token_type_ids;  // 0 for [CLS] a [SEP], 1 for b [SEP]
  std::vector<int32_t> attention_mask;  // all 1: padding, which gets 0, is added later
  std::optional<int> label;             // classification target (index into TaskSpec::labels)
  std::optional<float> score;           // regression target
  // Tokens removed by truncation (a and b together): 0 when the example fit.
  int truncated_tokens = 0;
};

// BERT's `_truncate_seq_pair` ("longest first"): while a and b together are longer than
// `max_tokens`, drops the last token of the longer one (of b when they are equal). With b
// null, a is cut to max_tokens. This is the rule of the original BERT and of Hugging Face's
// Python (slow) tokenizers. HF's Rust (fast) tokenizers agree except when both sequences
// end up cut and the budget is odd: this rule then gives the extra token to a, HF's to the
// longer input (b on a tie); tasks/testdata/features/pair_truncation_hf.jsonl records such cases.
void TruncateLongestFirst(std::vector<int32_t>* a, std::vector<int32_t>* b, size_t max_tokens);

// The feature of one example: text_a and text_b (when present) encoded with `tokenizer`,
// truncated as above so that the whole sequence, special tokens included, has at most
// `max_seq_length` tokens; label and score are copied (test examples carry neither).
// InvalidArgument when max_seq_length leaves no room for a token besides the special ones
// (single: < 3, pair: < 4).
absl::StatusOr<SequenceFeature> SentenceFeature(const SentenceExample& example,
                                                const data::Tokenizer& tokenizer,
                                                int max_seq_length);

// Gives unlabelled features (test splits) a placeholder target so that they can be batched
// for prediction: class -1, which the classification head's loss ignores, or score 0 for
// regression, whose loss is then not used. Labelled features are left as they are.
void SetPlaceholderTargets(std::vector<SequenceFeature>* features, bool regression);

// SentenceFeature of every example, example_index set to its position.
absl::StatusOr<std::vector<SequenceFeature>> SentenceFeatures(
    const std::vector<SentenceExample>& examples, const data::Tokenizer& tokenizer,
    int max_seq_length);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_FEATURES_H_
