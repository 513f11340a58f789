// What a head's loss is made of, shared by every head and both backends.
//
// A head's loss is one or two terms, each the mean of per-row losses over the rows whose
// label counts (label >= 0; every row for regression), and the total is a fixed weighted
// sum of the term means:
//   pretraining             MLM (masked positions) + sentence order (SOP/NSP on [CLS])
//   sequence classification cross-entropy (or MSE for one output) over examples
//   token classification    cross-entropy over labelled tokens
//   span extraction         (start cross-entropy + end cross-entropy) / 2, as Hugging Face
#ifndef CLOZE_MODEL_LOSSES_H_
#define CLOZE_MODEL_LOSSES_H_

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace cloze {

inline constexpr int kMaxLossTerms = 2;
// The pretraining head's two terms.
inline constexpr int kMlmTerm = 0;
inline constexpr int kSentenceTerm = 1;

struct LossTerm {
  double mean = 0;      // over counted rows (0 if none)
  double sum = 0;       // the sum behind the mean
  int64_t count = 0;    // counted rows
  int64_t correct = 0;  // counted rows whose argmax is the label (0 for regression)
};

struct Losses {
  std::array<LossTerm, kMaxLossTerms> terms;
  double total_loss = 0;  // Σ weight_i · terms[i].mean

  // The pretraining head's names for its terms.
  const LossTerm& mlm() const { return terms[kMlmTerm]; }
  const LossTerm& sentence() const { return terms[kSentenceTerm]; }
};

// How many rows each term of a batch counts. Known before the forward pass, so a
// data-parallel or accumulated step can agree on its loss normalizer first.
struct PredictionCounts {
  std::array<int64_t, kMaxLossTerms> terms{};
};

// What a step's loss is normalised by: its counted predictions over every micro-batch and
// every worker (the heads' CountPredictions of each batch, summed). The step's loss is then
// the mean over all its predictions, and its gradient the same however the examples are
// split.
using LossNormalizer = PredictionCounts;

// Over the rows whose label counts (>= 0), in row order: the sum and mean of the losses
// (double), how many rows count, and how many of them predicted the label. Shared by the
// CPU and GPU heads so that both report the same figures in the same summation order.
inline LossTerm SummarizeTerm(std::span<const float> losses, std::span<const int32_t> predicted,
                              std::span<const int32_t> labels) {
  LossTerm term;
  for (size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] < 0) continue;
    term.sum += losses[r];
    ++term.count;
    if (predicted[r] == labels[r]) ++term.correct;
  }
  term.mean = term.count > 0 ? term.sum / term.count : 0.0;
  return term;
}

// Every row counts and nothing is "correct": a regression term.
inline LossTerm SummarizeRegression(std::span<const float> losses) {
  LossTerm term;
  for (float loss : losses) term.sum += loss;
  term.count = static_cast<int64_t>(losses.size());
  term.mean = term.count > 0 ? term.sum / term.count : 0.0;
  return term;
}

// The argmax of each row of `logits` (rows × classes); the first maximum on ties.
inline std::vector<int32_t> RowArgmax(std::span<const float> logits, int64_t classes) {
  std::vector<int32_t> argmax(classes > 0 ? logits.size() / classes : 0);
  for (size_t r = 0; r < argmax.size(); ++r) {
    const float* row = logits.data() + r * classes;
    argmax[r] = static_cast<int32_t>(std::max_element(row, row + classes) - row);
  }
  return argmax;
}

// The scales Backward(loss_scale) gives the terms of one batch's `losses`:
// weight_i · loss_scale / count_i in float (0 when the term counts nothing), the gradient of
// loss_scale · total_loss.
inline std::array<float, kMaxLossTerms> BatchTermScales(const std::array<double, kMaxLossTerms>& weights,
                                                        const Losses& losses, float loss_scale) {
  std::array<float, kMaxLossTerms> scales{};
  for (int i = 0; i < kMaxLossTerms; ++i) {
    const int64_t count = losses.terms[i].count;
    scales[i] = count > 0 ? static_cast<float>(weights[i]) * loss_scale / count : 0.0f;
  }
  return scales;
}

// The scale Backward gives term i: weight_i / normalizer_i (0 when the term counts nothing).
inline std::array<float, kMaxLossTerms> TermScales(const std::array<double, kMaxLossTerms>& weights,
                                                   const LossNormalizer& normalizer) {
  std::array<float, kMaxLossTerms> scales{};
  for (int i = 0; i < kMaxLossTerms; ++i) {
    scales[i] = normalizer.terms[i] > 0 ? static_cast<float>(weights[i] / normalizer.terms[i]) : 0.0f;
  }
  return scales;
}

}  // namespace cloze

#endif  // CLOZE_MODEL_LOSSES_H_
