#include <cuda_runtime.h>

#include "kernels/cuda/blas_context.h"
#include "kernels/cuda/blas_handles.cuh"

namespace cloze::cuda {
namespace {

// cuBLASLt's recommendation for Hopper (32 MiB lets it pick split-K and stream-K kernels).
constexpr size_t kWorkspaceBytes = size_t{32} << 20;

void release(BlasContext::Handles* h) {
  h->plans.clear();  // descriptors before the handle they were used with
  if (h->blas != nullptr) cublasDestroy(h->blas);
  if (h->lt != nullptr) cublasLtDestroy(h->lt);
  if (h->workspace != nullptr) cudaFree(h->workspace);
  delete h;
}

DeviceStatus initialise(BlasContext::Handles* h) {
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(cublasCreate(&h->blas), "cublasCreate"));
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(cublasLtCreate(&h->lt), "cublasLtCreate"));
  // Strict fp32 (no TF32, even under NVIDIA_TF32_OVERRIDE): the fp32 ops are held to the
  // CPU's results within float rounding.
  CLOZE_RETURN_IF_DEVICE_ERROR(
      check_cublas(cublasSetMathMode(h->blas, CUBLAS_PEDANTIC_MATH), "cublasSetMathMode"));
  CLOZE_RETURN_IF_DEVICE_ERROR(device_alloc(&h->workspace, kWorkspaceBytes));
  h->workspace_bytes = kWorkspaceBytes;
  return {};
}

}  // namespace

DeviceStatus BlasContext::Create(std::unique_ptr<BlasContext>* context) {
  context->reset();
  if (DeviceStatus usable = gpu_usable(); !usable.ok()) return usable;
  auto* h = new Handles;
  if (DeviceStatus s = initialise(h); !s.ok()) {
    release(h);
    return s;
  }
  context->reset(new BlasContext(h));
  return {};
}

BlasContext::~BlasContext() { release(handles_); }

size_t BlasContext::cached_plan_count() const { return handles_->plans.size(); }

}  // namespace cloze::cuda
