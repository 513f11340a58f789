// optimizer.h where no CUDA code is built: Create reports that (through gpu_usable(), which
// device_none.cc makes fail), so callers need no #ifdef.
#include "kernels/cuda/optimizer.h"

namespace cloze::cuda {

DeviceStatus FusedOptimizer::Create(const std::vector<OptimizerTensor>&, int64_t,
                                    std::unique_ptr<FusedOptimizer>* optimizer) {
  optimizer->reset();
  DeviceStatus usable = gpu_usable();
  if (usable.ok()) usable.error = "FusedOptimizer: this binary has no CUDA code";
  return usable;
}

// Never constructed here (Create always fails), so there is nothing to release.
FusedOptimizer::~FusedOptimizer() = default;

}  // namespace cloze::cuda
