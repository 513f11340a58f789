// Model inputs of extractive QA (SQuAD v1.1/v2.0): the question and a window of the
// context, `[CLS] question [SEP] context-window [SEP]` (segment 0 up to the first [SEP], 1
// after), with the answer's start and end token and what post-processing needs to cut the
// answer back out of the original context.
//
// As the original BERT's run_squad.py (convert_examples_to_features):
//   - the question keeps its first max_query_length tokens;
//   - the context is covered by windows of max_seq_length - question - 3 tokens whose
//     STARTS are doc_stride tokens apart (BERT's meaning of doc_stride; Hugging Face's
//     tokenizers take `stride` as the overlap instead), the last one ending at the context's
//     end; a context without tokens still gets one (empty) window;
//   - a window that does not contain the whole answer is labelled start = end = 0, the
//     [CLS] token, and so is every window of a SQuAD 2.0 impossible question;
//   - a context token in several windows is "max context" only in the window where
//     min(left context, right context) + 0.01 * window length is largest (BERT's
//     _check_is_max_context; the first such window on a tie); post-processing only
//     starts answers at max-context tokens, so each token is judged once.
// Context tokens come from Tokenizer::EncodeWithOffsets(context): each has its byte span in
// the context. The answer (the example's first answer) is the bytes
// [byte_start, byte_start + text.size()); its start token is the first context token that
// ends after byte_start (the token containing it, or the next one when byte_start falls
// between tokens), its end token the last that begins before the answer's end byte (the
// token containing its last byte).
#ifndef CLOZE_TASKS_SQUAD_FEATURES_H_
#define CLOZE_TASKS_SQUAD_FEATURES_H_

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "data/tokenizer.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

struct SquadFeatureOptions {
  int max_seq_length = 384;
  int doc_stride = 128;
  int max_query_length = 64;
};

// One window of one question; every per-token list has input_ids' length.
struct SquadFeature {
  int64_t example_index = 0;            // the question's position in the featurised list
  int window_index = 0;                 // 0, 1, ... within its question
  std::vector<int32_t> input_ids;       // [CLS] question [SEP] window [SEP]
  std::vector<int32_t> token_type_ids;  // 0 for [CLS] question [SEP], 1 for window [SEP]
  std::vector<int32_t> attention_mask;  // all 1 (padding is added later)
  // Span labels (token indices into input_ids): the answer's tokens when this window holds
  // it, 0 and 0 ([CLS]) when it does not or the question is impossible, -1 and -1 (ignored)
  // when the question has no answer and is not marked impossible (test data).
  int start_position = -1;
  int end_position = -1;
  // Byte span in the example's context of each token; -1 and -1 for [CLS], [SEP] and the
  // question's tokens. A context token's span may be empty (a lone SentencePiece "▁").
  std::vector<int64_t> token_begin;
  std::vector<int64_t> token_end;
  // Whether each token is a context token in its max-context window (false elsewhere).
  std::vector<bool> max_context;
};

// The features of one question, in window order. InvalidArgument (naming the question id)
// when the options leave no room for context (max_seq_length - question - 3 < 1),
// doc_stride < 1 or max_query_length < 0, or when an answer lies outside its context.
absl::StatusOr<std::vector<SquadFeature>> SquadFeatures(const QaExample& example,
                                                        int64_t example_index,
                                                        const data::Tokenizer& tokenizer,
                                                        const SquadFeatureOptions& options);

// SquadFeatures of every question, concatenated, example_index the question's position.
// A context is encoded once for a run of consecutive questions that share it (as SQuAD
// files list a paragraph's questions together).
absl::StatusOr<std::vector<SquadFeature>> SquadFeatures(const std::vector<QaExample>& examples,
                                                        const data::Tokenizer& tokenizer,
                                                        const SquadFeatureOptions& options);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_SQUAD_FEATURES_H_
