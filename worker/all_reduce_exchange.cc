#include "worker/all_reduce_exchange.h"

#include "kernels/cpu/clip.h"

namespace cloze {

absl::StatusOr<double> AllReduceExchange::ReduceGradients(int64_t, std::span<float> gradients) {
  if (absl::Status s = sync_.AllReduceSum(gradients); !s.ok()) return s;
  return GlobalNorm(gradients);
}

}  // namespace cloze
