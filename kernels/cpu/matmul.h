// Dense layers: out = inp · weightᵀ + bias, with weight stored (out_features, in_features)
// as in PyTorch's nn.Linear, so Hugging Face checkpoints map onto the buffer unchanged.
//
// Shapes: inp (n, c), weight (oc, c), bias (oc) or null, out (n, oc).
// Forward overwrites out. Backward ADDS into dinp (n, c), dweight (oc, c) and dbias (oc);
// any of the three may be null when that gradient is not wanted. Buffers must not alias.
//
// The *_reference functions are plain loops: the oracle the BLAS versions are tested
// against. matmul_forward/backward call OpenBLAS (OpenMP build) and are what the model uses;
// at Precision::kBf16 their float products take bf16 operands (bf16_gemm.h), bias and
// accumulation fp32, and with `packed` the weight's bf16 copy is made once there and reused
// by later products until packed->Clear(), as is the forward input's for the backward's
// weight gradient (bf16_weights.h; ignored for double and fp32).
#ifndef CLOZE_KERNELS_CPU_MATMUL_H_
#define CLOZE_KERNELS_CPU_MATMUL_H_

#include <cstdint>

#include "kernels/cpu/bf16_gemm.h"
#include "kernels/cpu/bf16_weights.h"

namespace cloze::cpu {

template <typename T>
void matmul_forward_reference(T* out, const T* inp, const T* weight, const T* bias, int64_t n,
                              int64_t c, int64_t oc);
template <typename T>
void matmul_backward_reference(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                               const T* weight, int64_t n, int64_t c, int64_t oc);

template <typename T>
void matmul_forward(T* out, const T* inp, const T* weight, const T* bias, int64_t n, int64_t c,
                    int64_t oc, Precision precision = Precision::kFp32, Bf16Weights* packed = nullptr);
template <typename T>
void matmul_backward(T* dinp, T* dweight, T* dbias, const T* dout, const T* inp, const T* weight,
                     int64_t n, int64_t c, int64_t oc, Precision precision = Precision::kFp32,
                     Bf16Weights* packed = nullptr);

// out (n, c) += bias (c) broadcast over rows; dbias (c) += column sums of dout (n, c).
template <typename T>
void bias_forward(T* out, const T* bias, int64_t n, int64_t c);
template <typename T>
void bias_backward(T* dbias, const T* dout, int64_t n, int64_t c);

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_MATMUL_H_
