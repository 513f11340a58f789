// Inverted dropout with masks from the counter-based Philox generator.
//
// Element i of a tensor is kept iff uniform(seed, stream, first_index + i) >= p, and kept values are
// scaled by 1 / (1 - p). The mask is a pure function of (seed, stream, i): backward
// regenerates it instead of storing it, and the CUDA twin draws the same mask.
// Callers give every dropout site of a step its own stream.
#ifndef CLOZE_KERNELS_CPU_DROPOUT_H_
#define CLOZE_KERNELS_CPU_DROPOUT_H_

#include <cstdint>

namespace cloze::cpu {

struct DropoutSpec {
  float p = 0.0f;       // probability of zeroing an element, in [0, 1)
  uint64_t seed = 0;    // per step (and per micro-batch)
  uint64_t stream = 0;  // per dropout site within the step
  // Element i of this tensor draws the mask of element first_index + i of the site's mask.
  // A data-parallel step offsets each worker's (and micro-batch's) tensors by its first
  // example, so a step's masks do not depend on how its examples are split.
  uint64_t first_index = 0;

  bool active() const { return p > 0.0f; }
};

// Whether element `index` survives, and the factor a kept element is multiplied by.
bool dropout_keeps(const DropoutSpec& spec, uint64_t index);
float dropout_scale(const DropoutSpec& spec);

// keep[i] = whether element first + i of the tensor survives, for i in [0, n) (all 1 when
// inactive): the mask of a slice, for kernels that fuse dropout into their own loops.
// Serial: callers run it per row inside their parallel loops.
void dropout_keep_mask(uint8_t* keep, int64_t n, uint64_t first, const DropoutSpec& spec);

// out (n) = inp · mask / (1 - p); out may alias inp.
template <typename T>
void dropout_forward(T* out, const T* inp, int64_t n, const DropoutSpec& spec);
// dinp (n) += dout · mask / (1 - p).
template <typename T>
void dropout_backward(T* dinp, const T* dout, int64_t n, const DropoutSpec& spec);

// The same on elements [first, first + n) of a larger tensor whose mask is indexed from 0;
// pointers address element `first`. Used on slices (one attention head at a time).
template <typename T>
void dropout_forward_slice(T* out, const T* inp, int64_t n, uint64_t first, const DropoutSpec& spec);
template <typename T>
void dropout_backward_slice(T* dinp, const T* dout, int64_t n, uint64_t first,
                            const DropoutSpec& spec);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_DROPOUT_H_
