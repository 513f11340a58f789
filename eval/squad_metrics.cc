#include "eval/squad_metrics.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "eval/squad_normalize.h"

namespace cloze::eval {
namespace {

using Tokens = std::vector<std::string>;  // normalize_answer(text).split()

// Counter(prediction) & Counter(gold), summed.
int64_t CommonTokenCount(const Tokens& prediction, const Tokens& gold) {
  absl::flat_hash_map<std::string_view, int64_t> gold_counts;
  for (const std::string& token : gold) ++gold_counts[token];
  int64_t common = 0;
  for (const std::string& token : prediction) {
    auto it = gold_counts.find(token);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  return common;
}

// The scripts' arithmetic, in the same order, so that totals agree to the last bits.
double TokenF1(int64_t common, size_t prediction_tokens, size_t gold_tokens) {
  const double precision = 1.0 * common / prediction_tokens;
  const double recall = 1.0 * common / gold_tokens;
  return (2 * precision * recall) / (precision + recall);
}

// The scores from normalised tokens, so that the dataset evaluations normalise each string
// once. Normalised strings are equal exactly when their token lists are (tokens hold no
// whitespace and are joined by single spaces).
double ExactFromTokens(const Tokens& prediction, const Tokens& gold) {
  return prediction == gold ? 1.0 : 0.0;
}

double V1F1FromTokens(const Tokens& prediction, const Tokens& gold) {
  const int64_t common = CommonTokenCount(prediction, gold);
  if (common == 0) return 0.0;
  return TokenF1(common, prediction.size(), gold.size());
}

double V2F1FromTokens(const Tokens& prediction, const Tokens& gold) {
  if (prediction.empty() || gold.empty()) return prediction == gold ? 1.0 : 0.0;
  return V1F1FromTokens(prediction, gold);
}

}  // namespace

double SquadExactMatch(std::string_view prediction, std::string_view gold) {
  return ExactFromTokens(NormalizedAnswerTokens(prediction), NormalizedAnswerTokens(gold));
}

double SquadV1F1(std::string_view prediction, std::string_view gold) {
  return V1F1FromTokens(NormalizedAnswerTokens(prediction), NormalizedAnswerTokens(gold));
}

double SquadV2F1(std::string_view prediction, std::string_view gold) {
  return V2F1FromTokens(NormalizedAnswerTokens(prediction), NormalizedAnswerTokens(gold));
}

absl::StatusOr<SquadV1Result> EvaluateSquadV1(const std::vector<SquadQuestion>& questions,
                                             const SquadPredictions& predictions) {
  if (questions.empty()) return absl::InvalidArgumentError("SQuAD v1.1: no questions");
  SquadV1Result result;
  double exact_sum = 0, f1_sum = 0;
  for (const SquadQuestion& question : questions) {
    if (question.answers.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "SQuAD v1.1: question ", question.id,
          " has no gold answer (unanswerable questions need the v2.0 evaluation)"));
    }
    ++result.total;
    auto it = predictions.find(question.id);
    if (it == predictions.end()) {
      ++result.unanswered;
      continue;
    }
    const Tokens prediction = NormalizedAnswerTokens(it->second);
    double exact = 0, f1 = 0;
    for (const std::string& answer : question.answers) {
      const Tokens gold = NormalizedAnswerTokens(answer);
      exact = std::max(exact, ExactFromTokens(prediction, gold));
      f1 = std::max(f1, V1F1FromTokens(prediction, gold));
    }
    exact_sum += exact;
    f1_sum += f1;
  }
  result.exact_match = 100.0 * exact_sum / result.total;
  result.f1 = 100.0 * f1_sum / result.total;
  return result;
}

absl::StatusOr<SquadV2Result> EvaluateSquadV2(const std::vector<SquadQuestion>& questions,
                                             const SquadPredictions& predictions,
                                             const SquadV2Options& options) {
  if (questions.empty()) return absl::InvalidArgumentError("SQuAD v2.0: no questions");
  struct Sums {
    double exact = 0, f1 = 0;
    int64_t total = 0;
  };
  Sums all, has_answer, no_answer;
  for (const SquadQuestion& question : questions) {
    auto prediction = predictions.find(question.id);
    if (prediction == predictions.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("SQuAD v2.0: no prediction for question ", question.id));
    }
    // Gold answers that normalise to "" are dropped; none left: the one gold answer "".
    std::vector<Tokens> golds;
    for (const std::string& answer : question.answers) {
      Tokens gold = NormalizedAnswerTokens(answer);
      if (!gold.empty()) golds.push_back(std::move(gold));
    }
    if (golds.empty()) golds.push_back({});
    const Tokens predicted = NormalizedAnswerTokens(prediction->second);
    double exact = 0, f1 = 0;
    for (const Tokens& gold : golds) {
      exact = std::max(exact, ExactFromTokens(predicted, gold));
      f1 = std::max(f1, V2F1FromTokens(predicted, gold));
    }
    const bool answerable = !question.answers.empty();
    if (options.no_answer_probabilities != nullptr) {
      auto probability = options.no_answer_probabilities->find(question.id);
      if (probability == options.no_answer_probabilities->end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("SQuAD v2.0: no no-answer probability for question ", question.id));
      }
      if (probability->second > options.no_answer_threshold) {
        exact = f1 = answerable ? 0.0 : 1.0;
      }
    }
    for (Sums* sums : {&all, answerable ? &has_answer : &no_answer}) {
      sums->exact += exact;
      sums->f1 += f1;
      ++sums->total;
    }
  }
  const auto scores = [](const Sums& sums) {
    return SquadV2Scores{100.0 * sums.exact / sums.total, 100.0 * sums.f1 / sums.total,
                         sums.total};
  };
  SquadV2Result result;
  result.all = scores(all);
  if (has_answer.total > 0) result.has_answer = scores(has_answer);
  if (no_answer.total > 0) result.no_answer = scores(no_answer);
  return result;
}

}  // namespace cloze::eval
