#include "worker/device_all_reduce_exchange.h"

#include "absl/strings/str_cat.h"
#include "kernels/cuda/device.h"

namespace cloze {

absl::Status DeviceAllReduceExchange::SumStatistics(std::span<double> values) {
  if (values.empty()) return absl::OkStatus();
  if (static_cast<int64_t>(values.size()) > statistics_.size()) {
    if (absl::Status s = statistics_.Resize(values.size(), "the step statistics' device scratch"); !s.ok()) return s;
  }
  const size_t bytes = values.size() * sizeof(double);
  const std::string on_rank = absl::StrCat(" on rank ", rank());
  if (absl::Status s = FromDeviceStatus(cuda::copy_to_device(statistics_.get(), values.data(), bytes),
                                        "copying the step statistics to the device" + on_rank);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = sync_.AllReduceSum(std::span<double>(statistics_.get(), values.size())); !s.ok()) return s;
  return FromDeviceStatus(cuda::copy_to_host(values.data(), statistics_.get(), bytes),
                          "copying the summed step statistics back" + on_rank);
}

absl::StatusOr<double> DeviceAllReduceExchange::ReduceGradients(int64_t, std::span<float>) {
  return absl::FailedPreconditionError(absl::StrCat(
      "rank ", rank(), ": the device all-reduce exchange sums DEVICE gradients (SumDeviceGradients), not host ones"));
}

}  // namespace cloze
