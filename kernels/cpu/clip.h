// Global-norm gradient clipping over the flat gradient buffer, as tf.clip_by_global_norm
// (ALBERT clips at 1.0 before LAMB) and torch.nn.utils.clip_grad_norm_.
//
// The norm is the L2 norm of the whole buffer, accumulated in double in a fixed order
// (sequential sums over fixed 32768-element blocks, then the block sums in block order),
// so it is bitwise the same for any OpenMP thread count; the exact-resume guarantee
// depends on that.
//
// When norm > max_norm, every gradient is multiplied by the float scale max_norm / norm.
// Differences from the references, all far below float resolution of the result:
// torch divides by (norm + 1e-6), TF computes the norm in float32 and multiplies even
// when not clipping (by clip_norm · (1 / clip_norm), which may not be exactly 1); here an
// unclipped buffer is left untouched.
#ifndef CLOZE_KERNELS_CPU_CLIP_H_
#define CLOZE_KERNELS_CPU_CLIP_H_

#include <span>

namespace cloze {

struct ClipResult {
  // Pre-clip global L2 norm (what the trainer logs as grad_norm). Inf or NaN when a
  // gradient is non-finite or the sum of squares overflows double.
  double norm = 0;
  // False when `norm` is not finite: the gradients were left unchanged and the caller
  // must skip the step (the guard's non-finite rule).
  bool finite = true;
  // True when the gradients were scaled by max_norm / norm.
  bool clipped = false;
};

// L2 norm of `values` in double, in the fixed order above; thread-count independent.
double GlobalNorm(std::span<const float> values);

// Computes the global norm of `grads` and, when it is finite and above max_norm, scales
// them in place. max_norm <= 0 disables the scaling (the norm is still computed and
// non-finite norms still reported). Uses OpenMP; not otherwise thread-safe for the
// same buffer.
[[nodiscard]] ClipResult ClipGradientsByGlobalNorm(std::span<float> grads, double max_norm);

// The same in two halves, for gradients reduced elsewhere (a data-parallel step, parameter
// servers): the factor ClipGradientsByGlobalNorm multiplies by for a buffer of global norm
// `norm` (exactly 1 when it leaves the buffer untouched), and the multiplication.
float ClipScale(double norm, double max_norm);
void ScaleGradients(std::span<float> grads, float scale);

}  // namespace cloze

#endif  // CLOZE_KERNELS_CPU_CLIP_H_
