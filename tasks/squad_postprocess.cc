#include "tasks/squad_postprocess.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "absl/strings/str_cat.h"

namespace cloze::tasks {
namespace {

// Indices of the n largest of values[0, size), largest first, ties by lower index.
std::vector<int> BestIndexes(const std::vector<float>& values, size_t size, int n) {
  std::vector<int> order(size);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return values[a] > values[b]; });
  if (order.size() > static_cast<size_t>(n)) order.resize(static_cast<size_t>(n));
  return order;
}

struct Candidate {
  size_t feature;
  int start;
  int end;
  float start_logit;
  float end_logit;
  float score() const { return start_logit + end_logit; }
};

absl::Status CheckInputs(const std::vector<QaExample>& examples,
                         const std::vector<SquadFeature>& features,
                         const std::vector<SpanLogits>& logits,
                         const SquadPostprocessOptions& options) {
  if (options.n_best_size < 1 || options.max_answer_length < 1) {
    return absl::InvalidArgumentError(absl::StrCat("n_best_size ", options.n_best_size,
                                                   " and max_answer_length ",
                                                   options.max_answer_length, " must be >= 1"));
  }
  if (features.size() != logits.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(features.size(), " features but ", logits.size(), " logit pairs"));
  }
  for (size_t f = 0; f < features.size(); ++f) {
    const size_t tokens = features[f].input_ids.size();
    if (logits[f].start.size() < tokens || logits[f].end.size() < tokens) {
      return absl::InvalidArgumentError(absl::StrCat("feature ", f, " has ", tokens, " tokens but ",
                                                     logits[f].start.size(), " start and ",
                                                     logits[f].end.size(), " end logits"));
    }
    if (features[f].example_index < 0 ||
        features[f].example_index >= static_cast<int64_t>(examples.size())) {
      return absl::InvalidArgumentError(absl::StrCat("feature ", f, " belongs to example ",
                                                     features[f].example_index, " of ",
                                                     examples.size()));
    }
    if (features[f].token_begin.size() != tokens || features[f].token_end.size() != tokens ||
        features[f].max_context.size() != tokens) {
      return absl::InvalidArgumentError(
          absl::StrCat("feature ", f, ": per-token lists of unequal length"));
    }
  }
  return absl::OkStatus();
}

std::vector<double> Softmax(const std::vector<double>& scores) {
  std::vector<double> probs(scores.size());
  if (scores.empty()) return probs;
  const double max = *std::max_element(scores.begin(), scores.end());
  double total = 0;
  for (size_t i = 0; i < scores.size(); ++i) total += probs[i] = std::exp(scores[i] - max);
  for (double& p : probs) p /= total;
  return probs;
}

SquadPrediction PredictOne(const QaExample& example, const std::vector<size_t>& feature_ids,
                           const std::vector<SquadFeature>& features,
                           const std::vector<SpanLogits>& logits,
                           const SquadPostprocessOptions& options) {
  std::vector<Candidate> candidates;
  float null_score = std::numeric_limits<float>::infinity();
  float null_start = 0, null_end = 0;
  for (size_t f : feature_ids) {
    const SquadFeature& feature = features[f];
    const size_t tokens = feature.input_ids.size();
    const std::vector<float>& start_logits = logits[f].start;
    const std::vector<float>& end_logits = logits[f].end;
    if (options.version_2_with_negative && tokens > 0 &&
        start_logits[0] + end_logits[0] < null_score) {
      null_score = start_logits[0] + end_logits[0];
      null_start = start_logits[0];
      null_end = end_logits[0];
    }
    const std::vector<int> starts = BestIndexes(start_logits, tokens, options.n_best_size);
    const std::vector<int> ends = BestIndexes(end_logits, tokens, options.n_best_size);
    for (int start : starts) {
      if (feature.token_begin[start] < 0 || !feature.max_context[start]) continue;
      for (int end : ends) {
        if (feature.token_begin[end] < 0 || end < start) continue;
        if (end - start + 1 > options.max_answer_length) continue;
        candidates.push_back({f, start, end, start_logits[start], end_logits[end]});
      }
    }
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Candidate& a, const Candidate& b) { return a.score() > b.score(); });

  SquadPrediction prediction;
  prediction.id = example.id;
  std::set<std::string> seen;
  bool null_seen = false;
  for (const Candidate& candidate : candidates) {
    if (prediction.nbest.size() >= static_cast<size_t>(options.n_best_size)) break;
    // The null answer enters the ranking at its score, as BERT's prelim null prediction.
    if (options.version_2_with_negative && !null_seen && null_score > candidate.score()) {
      prediction.nbest.push_back({"", null_start, null_end, 0, -1, -1});
      null_seen = true;
      if (prediction.nbest.size() >= static_cast<size_t>(options.n_best_size)) break;
    }
    const SquadFeature& feature = features[candidate.feature];
    const int64_t begin = feature.token_begin[candidate.start];
    const int64_t end = std::max(begin, feature.token_end[candidate.end]);
    std::string text =
        example.context.substr(static_cast<size_t>(begin), static_cast<size_t>(end - begin));
    if (text.empty() || !seen.insert(text).second) continue;
    prediction.nbest.push_back(
        {std::move(text), candidate.start_logit, candidate.end_logit, 0, begin, end});
  }
  if (options.version_2_with_negative && !null_seen) {
    if (null_score == std::numeric_limits<float>::infinity()) null_start = null_end = 0;
    prediction.nbest.push_back({"", null_start, null_end, 0, -1, -1});
  }

  std::vector<double> scores;
  for (const SquadNbestEntry& entry : prediction.nbest) {
    scores.push_back(static_cast<double>(entry.start_logit) + entry.end_logit);
  }
  const std::vector<double> probs = Softmax(scores);
  for (size_t i = 0; i < probs.size(); ++i) prediction.nbest[i].probability = probs[i];

  const SquadNbestEntry* best_non_null = nullptr;
  for (const SquadNbestEntry& entry : prediction.nbest) {
    if (entry.byte_begin >= 0) {
      best_non_null = &entry;
      break;
    }
  }
  if (!options.version_2_with_negative) {
    if (best_non_null != nullptr) prediction.text = best_non_null->text;
    return prediction;
  }
  if (best_non_null == nullptr) {
    prediction.null_score_diff = std::numeric_limits<float>::infinity();
    return prediction;
  }
  const float null = null_score == std::numeric_limits<float>::infinity() ? 0 : null_score;
  prediction.null_score_diff = null - best_non_null->start_logit - best_non_null->end_logit;
  if (prediction.null_score_diff <= options.null_score_diff_threshold)
    prediction.text = best_non_null->text;
  return prediction;
}

}  // namespace

absl::StatusOr<std::vector<SquadPrediction>> PostprocessSquad(
    const std::vector<QaExample>& examples, const std::vector<SquadFeature>& features,
    const std::vector<SpanLogits>& logits, const SquadPostprocessOptions& options) {
  if (absl::Status status = CheckInputs(examples, features, logits, options); !status.ok())
    return status;
  std::vector<std::vector<size_t>> features_of(examples.size());
  for (size_t f = 0; f < features.size(); ++f) {
    features_of[static_cast<size_t>(features[f].example_index)].push_back(f);
  }
  std::vector<SquadPrediction> predictions;
  predictions.reserve(examples.size());
  for (size_t e = 0; e < examples.size(); ++e) {
    predictions.push_back(PredictOne(examples[e], features_of[e], features, logits, options));
  }
  return predictions;
}

}  // namespace cloze::tasks
