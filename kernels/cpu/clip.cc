#include "kernels/cpu/clip.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace cloze {
namespace {

// Elements per partial sum. Fixed (never derived from the thread count) so that the
// reduction order, and therefore the result, is the same however the blocks are shared.
constexpr int64_t kBlock = 1 << 15;

}  // namespace

double GlobalNorm(std::span<const float> values) {
  const int64_t n = static_cast<int64_t>(values.size());
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(blocks);
  const float* x = values.data();
#pragma omp parallel for schedule(static)
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t end = std::min(n, (b + 1) * kBlock);
    double sum = 0;
    for (int64_t i = b * kBlock; i < end; ++i) sum += static_cast<double>(x[i]) * x[i];
    partial[b] = sum;
  }
  double total = 0;
  for (double p : partial) total += p;
  return std::sqrt(total);
}

float ClipScale(double norm, double max_norm) {
  if (!std::isfinite(norm) || max_norm <= 0 || !(norm > max_norm)) return 1.0f;
  return static_cast<float>(max_norm / norm);
}

void ScaleGradients(std::span<float> grads, float scale) {
  if (scale == 1.0f) return;
  float* g = grads.data();
  const int64_t n = static_cast<int64_t>(grads.size());
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) g[i] *= scale;
}

ClipResult ClipGradientsByGlobalNorm(std::span<float> grads, double max_norm) {
  ClipResult result;
  result.norm = GlobalNorm(grads);
  result.finite = std::isfinite(result.norm);
  if (!result.finite || max_norm <= 0 || !(result.norm > max_norm)) return result;
  ScaleGradients(grads, ClipScale(result.norm, max_norm));
  result.clipped = true;
  return result;
}

}  // namespace cloze
