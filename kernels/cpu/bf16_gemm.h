// Matrix products with bf16 inputs on the CPU: the hardware's bf16 dot products
// (AVX512-BF16, twice the fp32 FMA rate) through oneDNN's matmul, for mixed-precision
// training as on the GPU: operands rounded to bf16, products accumulated in fp32, fp32
// output. Master weights, gradients and everything outside the products stay fp32.
//
// Chosen at run time: on a CPU without BF16 instructions every call here is the fp32
// gemm() of blas.h, exactly (CpuHasBf16).
//
// Thread-safety: callable from any thread, also inside OpenMP parallel regions (oneDNN's
// OpenMP runtime then runs the product on the calling thread). Each thread keeps its own
// primitives (by shape) and bf16 scratch.
#ifndef CLOZE_KERNELS_CPU_BF16_GEMM_H_
#define CLOZE_KERNELS_CPU_BF16_GEMM_H_

#include <cstdint>

#include "kernels/cpu/blas.h"

namespace cloze::cpu {

// How the matrix products of the CPU ops run. kBf16 concerns float products only; double
// (the gradient checks) always runs in double.
enum class Precision {
  kFp32,
  kBf16,
};

// True when this CPU has the AVX512-BF16 dot-product instructions (cpuid leaf 7.1) and
// oneDNN will use them. oneDNN's ONEDNN_MAX_CPU_ISA environment variable caps that: with
// ONEDNN_MAX_CPU_ISA=AVX512_CORE (or any ISA below avx512_core_bf16) this is false, which is
// how tests force the fp32 fallback on a CPU that has the instructions.
bool CpuHasBf16();

// What `requested` runs at on this CPU: kBf16 only where CpuHasBf16, else kFp32.
Precision EffectivePrecision(Precision requested);

// "fp32" or "bf16".
const char* PrecisionName(Precision precision);

// x rounded to bf16 (nearest, ties to even; NaN stays NaN; denormals to signed zero, as the
// hardware's vcvtneps2bf16) and back to float.
float RoundToBf16(float x);
// x as gemm_bf16 and the other bf16 products see it on this CPU: rounded to bf16 where
// CpuHasBf16, unchanged where they fall back to fp32. The tests' oracles use it, so that they
// check the fallback on CPUs without AVX512-BF16 and the rounding on those with it.
float AsBf16ProductOperand(float x);

// gemm()'s contract (row-major, C (m, n) = alpha · op(A) · op(B) + beta · C, leading
// dimensions lda, ldb, ldc) with A and B rounded to bf16 and fp32 accumulation. C is read
// only when beta != 0. Without CpuHasBf16 (or if oneDNN offers no bf16 matmul for the
// shape, reported once on stderr), the fp32 gemm().
void gemm_bf16(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
               int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// gemm_bf16 with A and B already in bf16 (the upper halves of floats, as bf16_convert.h's
// ConvertRows writes them), with gemm()'s layouts and leading dimensions. For callers that
// convert an operand once and use it in several products (or slices of it, as attention's
// heads). False (and C untouched) where no bf16 product runs: without CpuHasBf16 or where
// oneDNN has none for the shape; the caller then runs the fp32 gemm.
bool gemm_bf16_converted(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                         const uint16_t* a, int64_t lda, const uint16_t* b, int64_t ldb, float beta, float* c,
                         int64_t ldc);

// gemm() at `precision`.
inline void gemm(Precision precision, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (precision == Precision::kBf16) {
    gemm_bf16(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  } else {
    gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
  }
}

inline void gemm(Precision, bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                 const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
                 int64_t ldc) {
  gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_BF16_GEMM_H_
