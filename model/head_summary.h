// What a pretraining head's per-row losses add up to, shared by the CPU and GPU models so
// that both report the same figures in the same summation order.
#ifndef CLOZE_MODEL_HEAD_SUMMARY_H_
#define CLOZE_MODEL_HEAD_SUMMARY_H_

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace cloze {

// Over the rows whose label counts (>= 0), in row order: the sum and mean of the losses
// (double), how many rows count, and how many of them predicted the label.
inline void SummarizeHead(std::span<const float> losses, std::span<const int32_t> predicted,
                          std::span<const int32_t> labels, double* mean, double* total, int64_t* count,
                          int64_t* correct) {
  double sum = 0;
  *count = 0;
  *correct = 0;
  for (size_t r = 0; r < labels.size(); ++r) {
    if (labels[r] < 0) continue;
    sum += losses[r];
    ++*count;
    if (predicted[r] == labels[r]) ++*correct;
  }
  *mean = *count > 0 ? sum / *count : 0.0;
  *total = sum;
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

}  // namespace cloze

#endif  // CLOZE_MODEL_HEAD_SUMMARY_H_
