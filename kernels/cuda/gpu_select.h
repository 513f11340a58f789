// Which GPU this process trains on: cudaSetDevice behind a plain C++ header (the pattern
// of kernels/cuda/device.h), so g++-built code needs no CUDA headers. gpu_select.cu where
// CUDA is built; gpu_select_none.cc elsewhere, whose call says CUDA is not built.
//
// cudaSetDevice binds the calling host thread only: call it on the thread that then makes
// the GpuModel and trains (the worker and `cloze train` do both on their main thread).
#ifndef CLOZE_KERNELS_CUDA_GPU_SELECT_H_
#define CLOZE_KERNELS_CUDA_GPU_SELECT_H_

#include <string>

namespace cloze {

// Makes CUDA device `index` current for the calling thread. Returns "" on success, else
// why not: a negative index, CUDA's reason (no device, no driver), an index past the
// visible devices, or "built without CUDA".
std::string SelectGpu(int index);

}  // namespace cloze

#endif  // CLOZE_KERNELS_CUDA_GPU_SELECT_H_
