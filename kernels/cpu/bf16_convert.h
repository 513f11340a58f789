// What the bf16 matrix products (bf16_gemm.cc, bf16_weights.cc) share: fp32 → bf16
// conversion with the CPU's own instruction, and the one oneDNN CPU engine.
//
// Only for callers that checked CpuHasBf16 (bf16_gemm.h): the conversions use AVX512-BF16.
#ifndef CLOZE_KERNELS_CPU_BF16_CONVERT_H_
#define CLOZE_KERNELS_CPU_BF16_CONVERT_H_

#include <cstdint>
#include <oneapi/dnnl/dnnl.hpp>

namespace cloze::cpu::bf16 {

// A bf16 number's bits: the upper half of the float's.
using Bits = uint16_t;

// x to bf16 exactly as vcvtneps2bf16 rounds (nearest, ties to even; NaN stays NaN and
// turns quiet; denormals to signed zero), so scalar and vector conversions agree bit for bit.
Bits ToBits(float x);

// dst (rows, cols), dense = src (rows, cols) with leading dimension ld, rounded to bf16.
// Large conversions are spread over the OpenMP threads.
void ConvertRows(Bits* dst, const float* src, int64_t rows, int64_t cols, int64_t ld);

// ConvertRows of a dense src (rows, cols) into dst, and in the same pass sums (cols) +=
// src's column sums: a dense layer's output gradient goes to bf16 once for both of its
// products while its bias gradient is taken. Rows are added in order within blocks of
// columns (as matmul.h's bias_backward), so the sums do not depend on the thread count and
// equal bias_backward's bit for bit.
void ConvertRowsWithColumnSums(Bits* dst, float* sums, const float* src, int64_t rows, int64_t cols);

// The engine every bf16 primitive runs on.
dnnl::engine& Engine();

}  // namespace cloze::cpu::bf16

#endif  // CLOZE_KERNELS_CPU_BF16_CONVERT_H_
