#include "worker/gradient_sync.h"

#include "absl/strings/str_cat.h"

namespace cloze {
namespace {

// One rank: the sum over ranks of a buffer is the buffer itself.
class SingleProcessSync final : public GradientSync {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  absl::Status AllReduceSum(std::span<float>) override { return absl::OkStatus(); }
  absl::Status AllReduceSum(std::span<double>) override { return absl::OkStatus(); }
  absl::Status Broadcast(std::span<char>, int root) override {
    if (root != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("Broadcast from root ", root, " in a single-process job (world size 1)"));
    }
    return absl::OkStatus();
  }
  absl::Status Barrier() override { return absl::OkStatus(); }
};

}  // namespace

std::unique_ptr<GradientSync> MakeSingleProcessSync() {
  return std::make_unique<SingleProcessSync>();
}

}  // namespace cloze
