// One spelling of the BLAS calls cloze uses for float and double, so the kernels can be
// templates. Row-major throughout.
#ifndef CLOZE_KERNELS_CPU_BLAS_H_
#define CLOZE_KERNELS_CPU_BLAS_H_

#include <cblas.h>

#include <cstdint>

namespace cloze::cpu {

// C (m, n) = alpha · op(A) · op(B) + beta · C, with leading dimensions lda, ldb, ldc.
inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                 int64_t ldc) {
  cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

inline void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                 const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
                 int64_t ldc) {
  cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
              m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace cloze::cpu

#endif  // CLOZE_KERNELS_CPU_BLAS_H_
