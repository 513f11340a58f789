// SQuAD predictions from the model's start/end logits: per question, the best answer span
// cut from the ORIGINAL context by the tokens' byte spans (not detokenized), its n-best
// list with probabilities (nbest_predictions.json) and, for SQuAD 2.0, the null-answer
// decision (null_odds.json). As the original BERT's write_predictions.
#ifndef CLOZE_TASKS_SQUAD_POSTPROCESS_H_
#define CLOZE_TASKS_SQUAD_POSTPROCESS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "tasks/squad_features.h"
#include "tasks/task_example.h"

namespace cloze::tasks {

struct SquadPostprocessOptions {
  int n_best_size = 20;        // start and end candidates per feature, and n-best entries kept
  int max_answer_length = 30;  // tokens, end - start + 1
  bool version_2_with_negative = false;  // SQuAD 2.0: the answer may be "" (no answer)
  // SQuAD 2.0: predict "" when null_score - best non-null score > this.
  float null_score_diff_threshold = 0.0f;
};

// A feature's logits, one per token (at least as many as the feature's input_ids; more,
// from padding, are ignored).
struct SpanLogits {
  std::vector<float> start;
  std::vector<float> end;
};

struct SquadNbestEntry {
  std::string text;  // "" for the null answer
  float start_logit = 0;
  float end_logit = 0;
  double probability = 0;   // softmax over the n-best list's start_logit + end_logit
  int64_t byte_begin = -1;  // the text's bytes in the context; -1 for the null answer
  int64_t byte_end = -1;
};

struct SquadPrediction {
  std::string id;    // the question's id
  std::string text;  // the answer; "" for "no answer" (SQuAD 2.0)
  // Best first, distinct texts, at most n_best_size (SQuAD 2.0: plus the null answer when
  // it is not among them). Empty when a v1.1 question has no valid span (BERT put a
  // placeholder entry "empty" there; cloze predicts "" instead).
  std::vector<SquadNbestEntry> nbest;
  // SQuAD 2.0: null score (the minimum over the question's features of the [CLS] start +
  // end logit) minus the best non-null entry's score; +infinity when there is no non-null
  // entry (the prediction is then ""); 0 for v1.1.
  float null_score_diff = 0;
};

// Candidate spans: per feature, the n_best_size highest start logits and end logits
// (ties: lower index first); a pair counts when both tokens are in the context
// (token_begin >= 0), the start is a max-context token, start <= end and
// end - start + 1 <= max_answer_length; score = start_logit + end_logit. Per question the
// best-scoring candidates over all its features are deduplicated by text (stable: among
// equal scores the earlier feature, start and end candidate first). A candidate whose
// text is empty (only a lone SentencePiece "▁", whose span is empty) is not an answer and
// is skipped.
//
// `features` and `logits` are parallel (logits[f] is features[f]'s); every feature's
// example_index indexes `examples`; the result has one prediction per example, in order.
// Questions without features predict "" (v2.0: with the null entry, logits 0). InvalidArgument when
// the lists' sizes disagree, a logits list is shorter than its feature, an example_index is out of
// range, or n_best_size / max_answer_length < 1.
absl::StatusOr<std::vector<SquadPrediction>> PostprocessSquad(
    const std::vector<QaExample>& examples, const std::vector<SquadFeature>& features,
    const std::vector<SpanLogits>& logits, const SquadPostprocessOptions& options);

}  // namespace cloze::tasks

#endif  // CLOZE_TASKS_SQUAD_POSTPROCESS_H_
