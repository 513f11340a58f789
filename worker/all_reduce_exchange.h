// The data-parallel step over a GradientSync (MPI on CPU, NCCL on GPU): gradients and
// statistics are summed on every worker, and every worker applies the same update with its
// own optimizer. On CPU the sums are deterministic, so a job computes the same bits on
// every run, and a resumed job the bits of the uninterrupted one.
#ifndef CLOZE_WORKER_ALL_REDUCE_EXCHANGE_H_
#define CLOZE_WORKER_ALL_REDUCE_EXCHANGE_H_

#include "trainer/step_exchange.h"
#include "worker/gradient_sync.h"

namespace cloze {

class AllReduceExchange final : public StepExchange {
 public:
  explicit AllReduceExchange(GradientSync& sync) : sync_(sync) {}  // not owned

  int rank() const override { return sync_.rank(); }
  int world_size() const override { return sync_.world_size(); }
  absl::Status SumStatistics(std::span<double> values) override { return sync_.AllReduceSum(values); }
  // Sums into `gradients`, then the norm of the sum: the same bits on every worker.
  absl::StatusOr<double> ReduceGradients(int64_t step, std::span<float> gradients) override;

 private:
  GradientSync& sync_;
};

}  // namespace cloze

#endif  // CLOZE_WORKER_ALL_REDUCE_EXCHANGE_H_
