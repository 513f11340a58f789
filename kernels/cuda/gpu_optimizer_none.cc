// GpuOptimizer where no CUDA code is built: Create says so (see gpu_model_none.cc).
#include "kernels/cuda/gpu_optimizer.h"

namespace cloze {

absl::StatusOr<std::unique_ptr<GpuOptimizer>> GpuOptimizer::Create(const OptimizerConfig&,
                                                                  const ParameterLayout&) {
  return absl::FailedPreconditionError(
      "GpuOptimizer: this binary was built without CUDA (--config=cpu or no CUDA toolkit)");
}

}  // namespace cloze
