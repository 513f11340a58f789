// blas_context.h where no CUDA code is built: Create reports that (through gpu_usable(),
// which device_none.cc makes fail), so callers need no #ifdef.
#include "kernels/cuda/blas_context.h"

namespace cloze::cuda {

DeviceStatus BlasContext::Create(std::unique_ptr<BlasContext>* context) {
  context->reset();
  DeviceStatus usable = gpu_usable();
  if (usable.ok()) usable.error = "BlasContext: this binary has no CUDA code";
  return usable;
}

// Never constructed here (Create always fails), so there is nothing to release.
BlasContext::~BlasContext() = default;

size_t BlasContext::cached_plan_count() const { return 0; }

}  // namespace cloze::cuda
