// The data-parallel step on GPUs: AllReduceExchange's protocol over a GradientSync of DEVICE
// buffers (NCCL, worker/nccl_gradient_sync.h). The trainer hands over its device gradient
// buffer (SumDeviceGradients) and computes the norm of the sum on its device; the step's
// few statistics (loss sums, counts, the stop flag) travel through a small device scratch
// buffer, since NCCL reduces device memory only.
//
// Every worker holds the same summed bits afterwards (NCCL computes each element once),
// so every worker applies the same update; runs do not repeat bit for bit (the GPU's
// backward uses atomics, gpu_model.h).
//
// Errors: Internal naming the CUDA or NCCL failure and the rank. Not thread-safe; calls
// run on the thread whose current device the sync was made on.
#ifndef CLOZE_WORKER_DEVICE_ALL_REDUCE_EXCHANGE_H_
#define CLOZE_WORKER_DEVICE_ALL_REDUCE_EXCHANGE_H_

#include <cstdint>
#include <span>

#include "kernels/cuda/device_array.h"
#include "trainer/step_exchange.h"
#include "worker/gradient_sync.h"

namespace cloze {

class DeviceAllReduceExchange final : public StepExchange {
 public:
  explicit DeviceAllReduceExchange(GradientSync& sync) : sync_(sync) {}  // not owned

  int rank() const override { return sync_.rank(); }
  int world_size() const override { return sync_.world_size(); }
  // Host values, staged through the device scratch.
  absl::Status SumStatistics(std::span<double> values) override;
  // Host gradients are not this exchange's: FailedPrecondition (the trainer calls
  // SumDeviceGradients for device gradients).
  absl::StatusOr<double> ReduceGradients(int64_t step, std::span<float> gradients) override;
  bool reduces_device_gradients() const override { return true; }
  absl::Status SumDeviceGradients(int64_t step, std::span<float> gradients) override {
    return sync_.AllReduceSum(gradients);
  }

 private:
  GradientSync& sync_;
  DeviceArray<double> statistics_;  // grows to the largest SumStatistics call
};

}  // namespace cloze

#endif  // CLOZE_WORKER_DEVICE_ALL_REDUCE_EXCHANGE_H_
