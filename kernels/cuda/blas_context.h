// cuBLAS and cuBLASLt handles plus a workspace: the context the matrix-product ops
// (matmul.h, attention.h) take in addition to the CPU ops' parameters, because cuBLAS
// needs a handle per thread and device, and cuBLASLt a workspace, which are costly to
// create per call.
//
// One context per host thread and device; not thread-safe (cuBLAS handles are not).
// Work is enqueued on the default stream. Plain C++; where no CUDA code is built
// (blas_context_none.cc) Create fails saying so, so host code needs no #ifdef.
#ifndef CLOZE_KERNELS_CUDA_BLAS_CONTEXT_H_
#define CLOZE_KERNELS_CUDA_BLAS_CONTEXT_H_

#include <cstddef>
#include <memory>

#include "kernels/cuda/device.h"

namespace cloze::cuda {

class BlasContext {
 public:
  // The CUDA objects; defined in blas_handles.cuh for the .cu files only.
  struct Handles;

  // Creates the handles and a 32 MiB cuBLASLt workspace on the current device. Fails
  // (with *context null) where CUDA is not built, no device is usable, or cuBLAS cannot
  // initialise; the error names the failing call.
  static DeviceStatus Create(std::unique_ptr<BlasContext>* context);

  ~BlasContext();
  BlasContext(const BlasContext&) = delete;
  BlasContext& operator=(const BlasContext&) = delete;

  Handles& handles() { return *handles_; }

  // How many cuBLASLt plans (matmul.h) this context holds: one per distinct product key
  // (lt_plan_key.h) it has run, kept until the context is destroyed. For tests.
  size_t cached_plan_count() const;

 private:
  explicit BlasContext(Handles* handles) : handles_(handles) {}
  Handles* handles_;  // owned
};

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_BLAS_CONTEXT_H_
