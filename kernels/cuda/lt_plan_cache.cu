#include <cublasLt.h>

#include <string>

#include "kernels/cuda/cublas_status.cuh"
#include "kernels/cuda/lt_plan_cache.cuh"

namespace cloze::cuda {
namespace {

cudaDataType_t data_type(LtInputType t) {
  return t == LtInputType::kBf16 ? CUDA_R_16BF : CUDA_R_32F;
}

cublasLtEpilogue_t lt_epilogue(LtEpilogue e) {
  switch (e) {
    case LtEpilogue::kNone: return CUBLASLT_EPILOGUE_DEFAULT;
    case LtEpilogue::kBias: return CUBLASLT_EPILOGUE_BIAS;
    case LtEpilogue::kGeluAux: return CUBLASLT_EPILOGUE_GELU_AUX;
    case LtEpilogue::kGeluAuxBias: return CUBLASLT_EPILOGUE_GELU_AUX_BIAS;
    case LtEpilogue::kDGelu: return CUBLASLT_EPILOGUE_DGELU;
  }
  return CUBLASLT_EPILOGUE_DEFAULT;
}

template <typename T>
DeviceStatus set_attribute(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attribute,
                           const T& value, const char* what) {
  return check_cublas(cublasLtMatmulDescSetAttribute(desc, attribute, &value, sizeof(value)), what);
}

template <typename T>
DeviceStatus set_preference(cublasLtMatmulPreference_t pref,
                            cublasLtMatmulPreferenceAttributes_t attribute, const T& value,
                            const char* what) {
  return check_cublas(cublasLtMatmulPreferenceSetAttribute(pref, attribute, &value, sizeof(value)),
                      what);
}

// The per-call pointers of the epilogue. The heuristic reads their alignment from the
// descriptor too, which is why the key holds it.
DeviceStatus set_epilogue_pointers(cublasLtMatmulDesc_t desc, const LtProduct& p) {
  if (uses_bias(p.epilogue)) {
    CLOZE_RETURN_IF_DEVICE_ERROR(
        set_attribute(desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, p.bias, "BIAS_POINTER"));
  }
  if (uses_aux(p.epilogue)) {
    void* aux = p.aux;
    CLOZE_RETURN_IF_DEVICE_ERROR(
        set_attribute(desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, aux, "EPILOGUE_AUX_POINTER"));
  }
  return {};
}

DeviceStatus describe(const LtProduct& p, LtPlan& plan) {
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(
      cublasLtMatmulDescCreate(&plan.operation, CUBLAS_COMPUTE_32F, CUDA_R_32F),
      "cublasLtMatmulDescCreate"));
  const cublasOperation_t trans_a = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t trans_b = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  CLOZE_RETURN_IF_DEVICE_ERROR(
      set_attribute(plan.operation, CUBLASLT_MATMUL_DESC_TRANSA, trans_a, "TRANSA"));
  CLOZE_RETURN_IF_DEVICE_ERROR(
      set_attribute(plan.operation, CUBLASLT_MATMUL_DESC_TRANSB, trans_b, "TRANSB"));
  if (p.epilogue != LtEpilogue::kNone) {
    CLOZE_RETURN_IF_DEVICE_ERROR(set_attribute(plan.operation, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                               lt_epilogue(p.epilogue), "EPILOGUE"));
  }
  if (uses_bias(p.epilogue)) {
    const cudaDataType_t bias_type = CUDA_R_32F;
    CLOZE_RETURN_IF_DEVICE_ERROR(set_attribute(
        plan.operation, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE, bias_type, "BIAS_DATA_TYPE"));
  }
  if (uses_aux(p.epilogue)) {
    const int64_t aux_ld = p.aux_ld;
    CLOZE_RETURN_IF_DEVICE_ERROR(
        set_attribute(plan.operation, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, aux_ld, "EPILOGUE_AUX_LD"));
    // fp32, the type of D and cuBLASLt's default for the GELU aux; set so that a change of
    // that default cannot silently change what the buffer holds.
    const int32_t aux_type = CUDA_R_32F;
    CLOZE_RETURN_IF_DEVICE_ERROR(set_attribute(
        plan.operation, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_DATA_TYPE, aux_type, "EPILOGUE_AUX_DATA_TYPE"));
  }
  CLOZE_RETURN_IF_DEVICE_ERROR(set_epilogue_pointers(plan.operation, p));

  // Stored shapes: rows × columns of the matrix as it sits in memory (column-major).
  const cudaDataType_t in = data_type(p.input_type);
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(
      cublasLtMatrixLayoutCreate(&plan.a_layout, in, p.trans_a ? p.k : p.m, p.trans_a ? p.m : p.k,
                                 p.lda),
      "cublasLtMatrixLayoutCreate(A)"));
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(
      cublasLtMatrixLayoutCreate(&plan.b_layout, in, p.trans_b ? p.n : p.k, p.trans_b ? p.k : p.n,
                                 p.ldb),
      "cublasLtMatrixLayoutCreate(B)"));
  return check_cublas(cublasLtMatrixLayoutCreate(&plan.d_layout, CUDA_R_32F, p.m, p.n, p.ldd),
                      "cublasLtMatrixLayoutCreate(D)");
}

class Preference {
 public:
  ~Preference() {
    if (handle != nullptr) cublasLtMatmulPreferenceDestroy(handle);
  }
  cublasLtMatmulPreference_t handle = nullptr;
};

DeviceStatus choose_algorithm(cublasLtHandle_t lt, size_t workspace_bytes, const LtPlanKey& key,
                              LtPlan& plan) {
  Preference pref;
  CLOZE_RETURN_IF_DEVICE_ERROR(
      check_cublas(cublasLtMatmulPreferenceCreate(&pref.handle), "PreferenceCreate"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(
      pref.handle, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, workspace_bytes, "MAX_WORKSPACE_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(pref.handle, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                              key.align_a, "MIN_ALIGNMENT_A_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(pref.handle, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                              key.align_b, "MIN_ALIGNMENT_B_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(pref.handle, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                              key.align_d, "MIN_ALIGNMENT_C_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(pref.handle, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                              key.align_d, "MIN_ALIGNMENT_D_BYTES"));
  cublasLtMatmulHeuristicResult_t result = {};
  int found = 0;
  const cublasStatus_t status =
      cublasLtMatmulAlgoGetHeuristic(lt, plan.operation, plan.a_layout, plan.b_layout, plan.d_layout,
                                     plan.d_layout, pref.handle, 1, &result, &found);
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(status, "cublasLtMatmulAlgoGetHeuristic"));
  if (found == 0) {
    return {"cublasLtMatmulAlgoGetHeuristic: no algorithm for m=" + std::to_string(key.m) +
            " n=" + std::to_string(key.n) + " k=" + std::to_string(key.k)};
  }
  plan.has_algorithm = true;
  plan.algorithm = result.algo;
  return {};
}

DeviceStatus make_plan(cublasLtHandle_t lt, size_t workspace_bytes, const LtProduct& p,
                       const LtPlanKey& key, LtPlan& plan) {
  CLOZE_RETURN_IF_DEVICE_ERROR(describe(p, plan));
  return choose_algorithm(lt, workspace_bytes, key, plan);
}

}  // namespace

LtPlan::~LtPlan() {
  if (d_layout != nullptr) cublasLtMatrixLayoutDestroy(d_layout);
  if (b_layout != nullptr) cublasLtMatrixLayoutDestroy(b_layout);
  if (a_layout != nullptr) cublasLtMatrixLayoutDestroy(a_layout);
  if (operation != nullptr) cublasLtMatmulDescDestroy(operation);
}

LtPlan& LtPlanCache::find_or_create(cublasLtHandle_t lt, size_t workspace_bytes,
                                    const LtProduct& p) {
  const LtPlanKey key = plan_key_of(p);
  if (auto it = plans_.find(key); it != plans_.end()) return *it->second;
  auto plan = std::make_unique<LtPlan>();
  // A failure here is a property of the key (an unsupported epilogue, type or alignment
  // combination), so it is cached as such rather than retried.
  if (DeviceStatus made = make_plan(lt, workspace_bytes, p, key, *plan); !made.ok()) {
    plan->has_algorithm = false;
    plan->unsupported = made.error;
  }
  return *plans_.emplace(key, std::move(plan)).first->second;
}

DeviceStatus launch(cublasLtHandle_t lt, void* workspace, size_t workspace_bytes,
                    const LtPlan& plan, const LtProduct& p) {
  if (!plan.has_algorithm) return {plan.unsupported};
  CLOZE_RETURN_IF_DEVICE_ERROR(set_epilogue_pointers(plan.operation, p));
  const float alpha = 1.0f;
  return check_cublas(cublasLtMatmul(lt, plan.operation, &alpha, p.a, plan.a_layout, p.b,
                                     plan.b_layout, &p.beta, p.d, plan.d_layout, p.d,
                                     plan.d_layout, &plan.algorithm, workspace, workspace_bytes,
                                     /*stream=*/0),
                      "cublasLtMatmul");
}

}  // namespace cloze::cuda
