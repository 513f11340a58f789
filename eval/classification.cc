#include "eval/classification.h"

#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"

namespace cloze::eval {
namespace {

absl::Status CheckPairs(const char* metric, absl::Span<const int> labels,
                        absl::Span<const int> predictions) {
  if (labels.size() != predictions.size()) {
    return absl::InvalidArgumentError(absl::StrCat(metric, ": ", labels.size(), " labels but ",
                                                   predictions.size(), " predictions"));
  }
  if (labels.empty()) return absl::InvalidArgumentError(absl::StrCat(metric, ": no examples"));
  return absl::OkStatus();
}

// True, false-positive and false-negative counts of one class.
struct ClassCounts {
  double true_positives = 0, false_positives = 0, false_negatives = 0;
};

ClassCounts CountsFor(int positive, absl::Span<const int> labels,
                      absl::Span<const int> predictions) {
  ClassCounts counts;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool predicted = predictions[i] == positive, actual = labels[i] == positive;
    counts.true_positives += predicted && actual;
    counts.false_positives += predicted && !actual;
    counts.false_negatives += !predicted && actual;
  }
  return counts;
}

double F1(const ClassCounts& c) {
  const double denominator = 2 * c.true_positives + c.false_positives + c.false_negatives;
  return denominator == 0 ? 0.0 : 2 * c.true_positives / denominator;
}

}  // namespace

absl::StatusOr<double> Accuracy(absl::Span<const int> labels, absl::Span<const int> predictions) {
  if (absl::Status s = CheckPairs("accuracy", labels, predictions); !s.ok()) return s;
  int64_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += labels[i] == predictions[i];
  return static_cast<double>(correct) / labels.size();
}

absl::StatusOr<double> MatthewsCorrelation(absl::Span<const int> labels,
                                           absl::Span<const int> predictions) {
  if (absl::Status s = CheckPairs("Matthews correlation", labels, predictions); !s.ok()) return s;
  // Per class: how often it is the label (t) and the prediction (p); sklearn's formula
  // cov(y,ŷ)/sqrt(cov(y,y)·cov(ŷ,ŷ)) in the same float64 operations.
  std::map<int, std::pair<double, double>> sums;  // class -> (t, p)
  double correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    sums[labels[i]].first += 1;
    sums[predictions[i]].second += 1;
    correct += labels[i] == predictions[i];
  }
  const double n = static_cast<double>(labels.size());
  double t_dot_p = 0, p_dot_p = 0, t_dot_t = 0;
  for (const auto& [label, tp] : sums) {
    t_dot_p += tp.first * tp.second;
    p_dot_p += tp.second * tp.second;
    t_dot_t += tp.first * tp.first;
  }
  const double cov_ytyp = correct * n - t_dot_p;
  const double cov_ypyp = n * n - p_dot_p;
  const double cov_ytyt = n * n - t_dot_t;
  const double denominator = cov_ypyp * cov_ytyt;
  if (denominator == 0) return 0.0;
  return cov_ytyp / std::sqrt(denominator);
}

absl::StatusOr<double> BinaryF1(absl::Span<const int> labels, absl::Span<const int> predictions,
                                int positive_label) {
  if (absl::Status s = CheckPairs("F1", labels, predictions); !s.ok()) return s;
  return F1(CountsFor(positive_label, labels, predictions));
}

absl::StatusOr<double> MacroF1(absl::Span<const int> labels, absl::Span<const int> predictions) {
  if (absl::Status s = CheckPairs("macro F1", labels, predictions); !s.ok()) return s;
  std::set<int> classes(labels.begin(), labels.end());
  classes.insert(predictions.begin(), predictions.end());
  double sum = 0;
  for (int c : classes) sum += F1(CountsFor(c, labels, predictions));
  return sum / classes.size();
}

}  // namespace cloze::eval
