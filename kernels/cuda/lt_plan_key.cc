#include "kernels/cuda/lt_plan_key.h"

namespace cloze::cuda {

bool uses_bias(LtEpilogue e) { return e == LtEpilogue::kBias || e == LtEpilogue::kGeluAuxBias; }

bool uses_aux(LtEpilogue e) {
  return e == LtEpilogue::kGeluAux || e == LtEpilogue::kGeluAuxBias || e == LtEpilogue::kDGelu;
}

uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

LtPlanKey plan_key_of(const LtProduct& p) {
  const bool bias = uses_bias(p.epilogue), aux = uses_aux(p.epilogue);
  return {.input_type = p.input_type,
          .trans_a = p.trans_a,
          .trans_b = p.trans_b,
          .m = p.m,
          .n = p.n,
          .k = p.k,
          .lda = p.lda,
          .ldb = p.ldb,
          .ldd = p.ldd,
          .epilogue = p.epilogue,
          .aux_ld = aux ? p.aux_ld : 0,
          .reads_c = p.beta != 0.0f,
          .align_a = alignment_of(p.a),
          .align_b = alignment_of(p.b),
          .align_d = alignment_of(p.d),
          .align_bias = bias ? alignment_of(p.bias) : 0,
          .align_aux = aux ? alignment_of(p.aux) : 0};
}

bool gelu_aux_fusable(const void* aux, int64_t aux_ld, int64_t m) {
  return aux_ld % 8 == 0 && aux_ld >= m && alignment_of(aux) >= 16;
}

}  // namespace cloze::cuda
