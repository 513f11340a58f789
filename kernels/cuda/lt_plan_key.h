// One cuBLASLt product described in plain C++, and the key its cached plan is found by.
//
// The matrix-product ops (matmul.h) describe each GEMM as an LtProduct; lt_plan_cache.cuh
// keeps, per BlasContext, the descriptors and the algorithm cuBLASLt's heuristic chose for
// it under LtPlanKey. The key holds everything the heuristic sees: types, transposes,
// sizes, leading dimensions, the epilogue, whether C is read (beta != 0), and the
// ALIGNMENT of every pointer (cublasLtMatmulAlgoGetHeuristic reads the A/B/C/D alignments
// from the preference and infers the bias and epilogue-aux alignments from the pointers
// set on the descriptor) but never the pointer values, so a plan serves any buffers of the
// same shape and alignment. Host-only code, tested by lt_plan_key_test without a GPU.
#ifndef CLOZE_KERNELS_CUDA_LT_PLAN_KEY_H_
#define CLOZE_KERNELS_CUDA_LT_PLAN_KEY_H_

#include <compare>
#include <cstdint>

namespace cloze::cuda {

// The epilogues the ops use; lt_plan_cache.cu maps them onto cublasLtEpilogue_t.
enum class LtEpilogue : uint8_t {
  kNone,
  kBias,          // D = AB (+ beta C) + bias
  kGeluAux,       // D = gelu_tanh(AB); aux = AB
  kGeluAuxBias,   // D = gelu_tanh(AB + bias); aux = AB + bias
  kDGelu,         // D = (AB + beta C) ⊙ gelu_tanh'(aux); aux read
};

bool uses_bias(LtEpilogue e);
bool uses_aux(LtEpilogue e);

// The element types of A and B (D, C, the bias and aux are always fp32 here).
enum class LtInputType : uint8_t { kFp32, kBf16 };

// One product in cuBLASLt's column-major terms:
//   D (m × n) = epilogue(op(A) · op(B) + beta · D)
// with A stored (m × k), or (k × m) when trans_a, leading dimension lda; likewise B
// (k × n) or (n × k); D fp32 with leading dimension ldd; bias (m) and aux (m × n, leading
// dimension aux_ld, fp32) when the epilogue uses them. DEVICE pointers.
struct LtProduct {
  LtInputType input_type;
  bool trans_a, trans_b;
  int64_t m, n, k;
  const void* a;
  int64_t lda;
  const void* b;
  int64_t ldb;
  float beta;
  float* d;
  int64_t ldd;
  LtEpilogue epilogue = LtEpilogue::kNone;
  const float* bias = nullptr;
  float* aux = nullptr;  // written by kGeluAux*, read by kDGelu
  int64_t aux_ld = 0;
};

struct LtPlanKey {
  LtInputType input_type;
  bool trans_a, trans_b;
  int64_t m, n, k, lda, ldb, ldd;
  LtEpilogue epilogue;
  int64_t aux_ld;  // 0 when the epilogue has no aux
  bool reads_c;    // beta != 0
  // Byte alignments (powers of two up to 256); 0 for a pointer the epilogue does not use.
  uint32_t align_a, align_b, align_d, align_bias, align_aux;

  auto operator<=>(const LtPlanKey&) const = default;
};

LtPlanKey plan_key_of(const LtProduct& p);

// Largest power of two, up to 256, dividing the address: what cuBLASLt may assume of it
// (256 is its default assumption, and the most any of its kernels asks for).
uint32_t alignment_of(const void* p);

// Whether the GELU epilogues' documented constraints on the aux matrix hold: its leading
// dimension a multiple of 8 and at least the rows of D (m). We also ask for a 16-byte
// aligned aux pointer: the documentation states the ld rule (rows of 8 elements start
// vector-aligned only from an aligned base) and nothing about bases, so we do not rely on
// the heuristic to cover unaligned ones. Where this is false the ops fall back to a plain
// GEMM and the separate GELU kernels.
bool gelu_aux_fusable(const void* aux, int64_t aux_ld, int64_t m);

}  // namespace cloze::cuda

#endif  // CLOZE_KERNELS_CUDA_LT_PLAN_KEY_H_
