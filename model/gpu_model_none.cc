// GpuModel where no CUDA code is built (--config=cpu, no toolkit): Create says so, so
// callers need no #ifdef and no instance ever exists.
#include "model/gpu_model.h"

namespace cloze {

absl::StatusOr<std::unique_ptr<GpuModel>> GpuModel::Create(const ModelConfig&, const GpuModelOptions&, const HeadSpec&) {
  return absl::FailedPreconditionError(
      "GpuModel: this binary was built without CUDA (--config=cpu or no CUDA toolkit)");
}

}  // namespace cloze
