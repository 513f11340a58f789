#include <cuda_runtime.h>

#include "kernels/cuda/dropout.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/philox.h"

namespace cloze::cuda {
namespace {

// The CPU's test (cpu::dropout_keeps), element by element. The CPU draws a Philox block
// per four elements; here each thread draws its own element's block, which costs 4x the
// arithmetic of sharing but gives the same word, so the masks are identical.
__device__ __forceinline__ bool keeps(const DropoutSpec& spec, uint64_t index) {
  return uniform_from_word(philox_word(spec.seed, spec.stream, spec.first_index + index)) >= spec.p;
}

__global__ void dropout_forward_kernel(float* out, const float* inp, int64_t n, uint64_t first,
                                       DropoutSpec spec, float scale) {
  CLOZE_GRID_STRIDE_LOOP(i, n) {
    out[i] = keeps(spec, first + static_cast<uint64_t>(i)) ? inp[i] * scale : 0.0f;
  }
}

__global__ void dropout_backward_kernel(float* dinp, const float* dout, int64_t n, uint64_t first,
                                        DropoutSpec spec, float scale) {
  CLOZE_GRID_STRIDE_LOOP(i, n) {
    // __fmul_rn: no FMA contraction, so the sum rounds exactly as the CPU's.
    if (keeps(spec, first + static_cast<uint64_t>(i))) dinp[i] += __fmul_rn(dout[i], scale);
  }
}

__global__ void accumulate_kernel(float* dst, const float* src, int64_t n) {
  CLOZE_GRID_STRIDE_LOOP(i, n) { dst[i] += src[i]; }
}

// cpu::dropout_scale, inlined so this file needs only the header's struct.
float scale_of(const DropoutSpec& spec) { return 1.0f / (1.0f - spec.p); }

}  // namespace

void dropout_forward_slice(float* out, const float* inp, int64_t n, uint64_t first,
                           const DropoutSpec& spec) {
  if (n <= 0) return;  // a grid of zero blocks is a launch error
  if (!spec.active()) {
    // An error here is sticky in the runtime and reported by the next synchronize.
    if (out != inp) cudaMemcpyAsync(out, inp, n * sizeof(float), cudaMemcpyDeviceToDevice);
    return;
  }
  dropout_forward_kernel<<<grid_for(n), kThreads>>>(out, inp, n, first, spec, scale_of(spec));
}

void dropout_backward_slice(float* dinp, const float* dout, int64_t n, uint64_t first,
                            const DropoutSpec& spec) {
  if (n <= 0) return;
  if (!spec.active()) {
    accumulate_kernel<<<grid_for(n), kThreads>>>(dinp, dout, n);
    return;
  }
  dropout_backward_kernel<<<grid_for(n), kThreads>>>(dinp, dout, n, first, spec, scale_of(spec));
}

void dropout_forward(float* out, const float* inp, int64_t n, const DropoutSpec& spec) {
  dropout_forward_slice(out, inp, n, 0, spec);
}

void dropout_backward(float* dinp, const float* dout, int64_t n, const DropoutSpec& spec) {
  dropout_backward_slice(dinp, dout, n, 0, spec);
}

}  // namespace cloze::cuda
