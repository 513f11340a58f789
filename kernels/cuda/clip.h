// Global-norm gradient clipping on the GPU: the CUDA twin of kernels/cpu/clip.h, over a flat
// DEVICE gradient buffer.
//
// The norm is accumulated in double in a fixed order, as the CPU's: partial sums over fixed
// 32768-element blocks (each a tree sum in double within one CUDA block), then the block
// sums added in block order by one thread. It is therefore the same run to run and equal
// to the CPU's GlobalNorm to ~1e-16 relative. When norm > max_norm every gradient is
// multiplied by the float max_norm / norm (clip_scale, the CPU's ClipScale), bitwise as
// the CPU's ScaleGradients.
//
// `scratch` is a device buffer of global_norm_scratch_doubles(n) doubles. global_norm and
// clip_gradients_by_global_norm wait for the device (the caller needs the norm on the host
// to log it and to decide whether to skip the step). Not thread-safe for one scratch buffer.
//
// Plain C++, so g++-built code includes it without CUDA headers. The functions are linked
// only where CUDA code is built: guard calls with if_cuda() defines in BUILD.
#ifndef CLOZE_KERNELS_CUDA_CLIP_H_
#define CLOZE_KERNELS_CUDA_CLIP_H_

#include <cstdint>

#include "kernels/cuda/device.h"

namespace cloze::cuda {

struct ClipOutcome {
  double norm = 0;       // pre-clip global L2 norm; inf or NaN when a gradient is non-finite
  bool finite = true;    // false: gradients left unchanged, the caller must skip the step
  bool clipped = false;  // true when the gradients were scaled
};

// One partial per 32768-element block, plus the total.
inline int64_t global_norm_scratch_doubles(int64_t n) { return (n + 32767) / 32768 + 1; }

// *norm = L2 norm of values (n), in the fixed order above.
DeviceStatus global_norm(double* norm, const float* values, int64_t n, double* scratch);

// The factor clipping multiplies by: max_norm / norm when norm is finite and above
// max_norm > 0, else exactly 1.
float clip_scale(double norm, double max_norm);

// grads (n) *= scale; nothing when scale == 1. Enqueues only.
void scale_gradients(float* grads, int64_t n, float scale);

// Computes the norm and, when finite and above max_norm (> 0), scales the gradients.
DeviceStatus clip_gradients_by_global_norm(ClipOutcome* outcome, float* grads, int64_t n,
                                           double max_norm, double* scratch);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_CLIP_H_
