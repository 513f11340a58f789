// Elementwise activations: GELU (exact and tanh approximation), ReLU and tanh.
//
// Contract for every pair here: `forward` overwrites out[0, n); `backward` ADDS the
// input gradient into dinp[0, n) (callers zero it first), so results from several
// uses of one tensor accumulate. out may alias inp in forward; dinp must not alias
// dout. T is float or double (double for finite-difference checks).
#ifndef CLOZE_KERNELS_CPU_ACTIVATIONS_H_
#define CLOZE_KERNELS_CPU_ACTIVATIONS_H_

#include <cstdint>

namespace cloze::cpu {

// The feed-forward activations a model config may name.
enum class Activation {
  kGeluErf,   // "gelu": x·Φ(x) with the exact normal CDF (BERT).
  kGeluTanh,  // "gelu_new", "gelu_pytorch_tanh": tanh approximation (ALBERT).
  kRelu,      // "relu".
};

template <typename T>
void gelu_erf_forward(T* out, const T* inp, int64_t n);
template <typename T>
void gelu_erf_backward(T* dinp, const T* inp, const T* dout, int64_t n);

template <typename T>
void gelu_tanh_forward(T* out, const T* inp, int64_t n);
template <typename T>
void gelu_tanh_backward(T* dinp, const T* inp, const T* dout, int64_t n);

template <typename T>
void relu_forward(T* out, const T* inp, int64_t n);
template <typename T>
void relu_backward(T* dinp, const T* inp, const T* dout, int64_t n);

// tanh's backward reads the forward OUTPUT (1 - tanh²), not the input.
template <typename T>
void tanh_forward(T* out, const T* inp, int64_t n);
template <typename T>
void tanh_backward(T* dinp, const T* out, const T* dout, int64_t n);

// Dispatch on a model's activation; same contracts as the functions above.
template <typename T>
void activation_forward(Activation act, T* out, const T* inp, int64_t n);
template <typename T>
void activation_backward(Activation act, T* dinp, const T* inp, const T* dout, int64_t n);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_ACTIVATIONS_H_
