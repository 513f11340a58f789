#include "kernels/cpu/dropout.h"

#include <algorithm>

#include "kernels/philox.h"

namespace cloze::cpu {

bool dropout_keeps(const DropoutSpec& spec, uint64_t index) {
  return uniform_from_word(philox_word(spec.seed, spec.stream, spec.first_index + index)) >= spec.p;
}

float dropout_scale(const DropoutSpec& spec) { return 1.0f / (1.0f - spec.p); }

void dropout_keep_mask(uint8_t* keep, int64_t n, uint64_t first_in_tensor, const DropoutSpec& spec) {
  if (!spec.active()) {
    std::fill(keep, keep + n, uint8_t{1});
    return;
  }
  const uint64_t first = spec.first_index + first_in_tensor;
  for (uint64_t b = first / 4; b < (first + n + 3) / 4; ++b) {
    const Philox4x32 words = philox_block(spec.seed, spec.stream, b);
    for (uint64_t lane = 0; lane < 4; ++lane) {
      const uint64_t index = 4 * b + lane;
      if (index >= first && index < first + n) keep[index - first] = uniform_from_word(words.v[lane]) >= spec.p;
    }
  }
}

namespace {

// Calls body(i, keep) for every i in [0, n), where element i of the slice is element
// first + i of the tensor; one Philox block serves four consecutive elements.
template <typename Body>
void for_each_mask_element(int64_t n, uint64_t first_in_tensor, const DropoutSpec& spec, Body body) {
  if (n <= 0) return;
  const uint64_t first = spec.first_index + first_in_tensor;
  const int64_t begin_block = static_cast<int64_t>(first / 4);
  const int64_t end_block = static_cast<int64_t>((first + n + 3) / 4);
#pragma omp parallel for schedule(static)
  for (int64_t b = begin_block; b < end_block; ++b) {
    const Philox4x32 words = philox_block(spec.seed, spec.stream, static_cast<uint64_t>(b));
    for (int lane = 0; lane < 4; ++lane) {
      const int64_t i = 4 * b + lane - static_cast<int64_t>(first);
      if (i >= 0 && i < n) body(i, uniform_from_word(words.v[lane]) >= spec.p);
    }
  }
}

}  // namespace

template <typename T>
void dropout_forward_slice(T* out, const T* inp, int64_t n, uint64_t first, const DropoutSpec& spec) {
  if (!spec.active()) {
    if (out != inp) std::copy(inp, inp + n, out);
    return;
  }
  const T scale = T(dropout_scale(spec));
  for_each_mask_element(n, first, spec,
                        [&](int64_t i, bool keep) { out[i] = keep ? inp[i] * scale : T(0); });
}

template <typename T>
void dropout_backward_slice(T* dinp, const T* dout, int64_t n, uint64_t first,
                            const DropoutSpec& spec) {
  if (!spec.active()) {
    for (int64_t i = 0; i < n; ++i) dinp[i] += dout[i];
    return;
  }
  const T scale = T(dropout_scale(spec));
  for_each_mask_element(n, first, spec, [&](int64_t i, bool keep) {
    if (keep) dinp[i] += dout[i] * scale;
  });
}

template <typename T>
void dropout_forward(T* out, const T* inp, int64_t n, const DropoutSpec& spec) {
  dropout_forward_slice(out, inp, n, 0, spec);
}

template <typename T>
void dropout_backward(T* dinp, const T* dout, int64_t n, const DropoutSpec& spec) {
  dropout_backward_slice(dinp, dout, n, 0, spec);
}

#define CLOZE_INSTANTIATE(T)                                                                 \
  template void dropout_forward<T>(T*, const T*, int64_t, const DropoutSpec&);               \
  template void dropout_backward<T>(T*, const T*, int64_t, const DropoutSpec&);              \
  template void dropout_forward_slice<T>(T*, const T*, int64_t, uint64_t, const DropoutSpec&); \
  template void dropout_backward_slice<T>(T*, const T*, int64_t, uint64_t, const DropoutSpec&);
CLOZE_INSTANTIATE(float)
CLOZE_INSTANTIATE(double)
#undef CLOZE_INSTANTIATE

}  // namespace cloze::cpu
