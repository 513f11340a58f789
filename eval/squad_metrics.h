// SQuAD exact match and F1, as the official evaluate-v1.1.py and evaluate-v2.0.py compute them
// (rajpurkar.github.io/SQuAD-explorer), answers normalised by NormalizeAnswer
// (squad_normalize.h). Per-question scores are fractions in [0, 1]; the dataset totals are
// percentages, like the scripts print.
//
// The two versions differ only in the no-answer cases:
//   v1.1: F1 is 0 whenever nothing is in common, so an empty prediction scores F1 0 even
//         against a gold answer that normalises to "" (its exact match is 1 there). Every
//         question needs at least one gold answer. A question without a prediction counts in
//         the total with score 0 (the script prints "Unanswered question ... will receive
//         score 0.").
//   v2.0: gold answers that normalise to "" are dropped; a question left with none (including
//         every unanswerable one) has the single gold answer "", which only an empty (or
//         all-punctuation/article) prediction matches, exact 1 and F1 1. Every question needs
//         a prediction: the script's HasAns/NoAns split fails without one.
#ifndef CLOZE_EVAL_SQUAD_METRICS_H_
#define CLOZE_EVAL_SQUAD_METRICS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace cloze::eval {

// 1 when prediction and gold normalise to the same string, else 0 (both versions).
double SquadExactMatch(std::string_view prediction, std::string_view gold);
// evaluate-v1.1.py's f1_score(prediction, ground_truth): token F1 with multiset (Counter)
// intersection.
double SquadV1F1(std::string_view prediction, std::string_view gold);
// evaluate-v2.0.py's compute_f1(a_gold, a_pred): as v1.1, but 1 when both have no tokens and 0
// when exactly one has none.
double SquadV2F1(std::string_view prediction, std::string_view gold);

// One question: its id and gold answer texts. Empty answers: unanswerable (v2.0 only).
struct SquadQuestion {
  std::string id;
  std::vector<std::string> answers;
};

using SquadPredictions = std::unordered_map<std::string, std::string>;  // question id -> text

struct SquadV1Result {
  double exact_match = 0;       // percent of all questions
  double f1 = 0;                // percent of all questions
  int64_t total = 0;            // questions, answered or not
  int64_t unanswered = 0;       // questions without a prediction (scored 0)
};

// evaluate-v1.1.py's evaluate(dataset, predictions): max over the gold answers of each
// question, averaged over all questions. Predictions for unknown ids are ignored.
// InvalidArgument when there are no questions or a question has no gold answer.
absl::StatusOr<SquadV1Result> EvaluateSquadV1(const std::vector<SquadQuestion>& questions,
                                             const SquadPredictions& predictions);

struct SquadV2Scores {
  double exact = 0;  // percent
  double f1 = 0;     // percent
  int64_t total = 0;
};

struct SquadV2Result {
  SquadV2Scores all;
  std::optional<SquadV2Scores> has_answer;  // HasAns_*: absent when no question has an answer
  std::optional<SquadV2Scores> no_answer;   // NoAns_*: absent when every question has one
};

struct SquadV2Options {
  // --na-prob-file: question id -> the model's probability that there is no answer. When set,
  // a question whose probability exceeds `no_answer_threshold` scores 1 if it is unanswerable
  // and 0 otherwise, whatever the prediction. Not owned; may be null (all probabilities 0).
  const std::unordered_map<std::string, double>* no_answer_probabilities = nullptr;
  double no_answer_threshold = 1.0;  // --na-prob-thresh
};

// evaluate-v2.0.py's main() without the best-threshold search: exact and F1 over all
// questions and over the answerable (HasAns) and unanswerable (NoAns) ones. InvalidArgument,
// naming the question, when a question has no prediction or no no-answer probability (when
// probabilities are given), or when there are no questions.
absl::StatusOr<SquadV2Result> EvaluateSquadV2(const std::vector<SquadQuestion>& questions,
                                             const SquadPredictions& predictions,
                                             const SquadV2Options& options = {});

}  // namespace cloze::eval

#endif  // CLOZE_EVAL_SQUAD_METRICS_H_
