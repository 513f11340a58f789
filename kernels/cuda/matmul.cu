#include <cuda_bf16.h>
#include <cublasLt.h>

#include <cstdint>

#include "kernels/cuda/blas_handles.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/matmul.h"

namespace cloze::cuda {
namespace {

// One cuBLASLt product in its own column-major terms:
//   D (m × n) = op(A) · op(B) + beta · D  (+ bias (m) broadcast over columns, if given),
// with A stored (m × k) or, transposed, (k × m) with leading dimension lda, likewise B
// (k × n) or (n × k); D is fp32 with leading dimension ldd. The row-major products of the
// public ops map onto this by reading each row-major matrix as its column-major transpose.
struct LtProduct {
  cudaDataType_t input_type;  // of A and B
  bool trans_a, trans_b;
  int64_t m, n, k;
  const void* a;
  int64_t lda;
  const void* b;
  int64_t ldb;
  float beta;
  float* d;
  int64_t ldd;
  const float* bias = nullptr;
};

// Largest power of two (up to 256) dividing the address: what the heuristic may assume.
uint32_t alignment_of(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  uint32_t alignment = 256;
  while (alignment > 1 && address % alignment != 0) alignment /= 2;
  return alignment;
}

// Descriptors live for one call: creating them costs microseconds, small beside the GEMMs
// of a BERT layer; caching them per shape is a later optimisation.
class LtDescriptors {
 public:
  ~LtDescriptors() {
    if (preference != nullptr) cublasLtMatmulPreferenceDestroy(preference);
    if (d_layout != nullptr) cublasLtMatrixLayoutDestroy(d_layout);
    if (b_layout != nullptr) cublasLtMatrixLayoutDestroy(b_layout);
    if (a_layout != nullptr) cublasLtMatrixLayoutDestroy(a_layout);
    if (operation != nullptr) cublasLtMatmulDescDestroy(operation);
  }
  cublasLtMatmulDesc_t operation = nullptr;
  cublasLtMatrixLayout_t a_layout = nullptr, b_layout = nullptr, d_layout = nullptr;
  cublasLtMatmulPreference_t preference = nullptr;
};

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

DeviceStatus run(BlasContext::Handles& h, const LtProduct& p) {
  LtDescriptors desc;
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(
      cublasLtMatmulDescCreate(&desc.operation, CUBLAS_COMPUTE_32F, CUDA_R_32F),
      "cublasLtMatmulDescCreate"));
  const cublasOperation_t trans_a = p.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
  const cublasOperation_t trans_b = p.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  CLOZE_RETURN_IF_DEVICE_ERROR(
      set_attribute(desc.operation, CUBLASLT_MATMUL_DESC_TRANSA, trans_a, "TRANSA"));
  CLOZE_RETURN_IF_DEVICE_ERROR(
      set_attribute(desc.operation, CUBLASLT_MATMUL_DESC_TRANSB, trans_b, "TRANSB"));
  if (p.bias != nullptr) {
    CLOZE_RETURN_IF_DEVICE_ERROR(set_attribute(desc.operation, CUBLASLT_MATMUL_DESC_EPILOGUE,
                                        CUBLASLT_EPILOGUE_BIAS, "EPILOGUE"));
    CLOZE_RETURN_IF_DEVICE_ERROR(
        set_attribute(desc.operation, CUBLASLT_MATMUL_DESC_BIAS_POINTER, p.bias, "BIAS_POINTER"));
    const cudaDataType_t bias_type = CUDA_R_32F;
    CLOZE_RETURN_IF_DEVICE_ERROR(set_attribute(desc.operation, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                                        bias_type, "BIAS_DATA_TYPE"));
  }
  // Stored shapes: rows × columns of the matrix as it sits in memory (column-major).
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(
      cublasLtMatrixLayoutCreate(&desc.a_layout, p.input_type, p.trans_a ? p.k : p.m,
                                 p.trans_a ? p.m : p.k, p.lda),
      "cublasLtMatrixLayoutCreate(A)"));
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(
      cublasLtMatrixLayoutCreate(&desc.b_layout, p.input_type, p.trans_b ? p.n : p.k,
                                 p.trans_b ? p.k : p.n, p.ldb),
      "cublasLtMatrixLayoutCreate(B)"));
  CLOZE_RETURN_IF_DEVICE_ERROR(
      check_cublas(cublasLtMatrixLayoutCreate(&desc.d_layout, CUDA_R_32F, p.m, p.n, p.ldd),
                   "cublasLtMatrixLayoutCreate(D)"));

  CLOZE_RETURN_IF_DEVICE_ERROR(
      check_cublas(cublasLtMatmulPreferenceCreate(&desc.preference), "PreferenceCreate"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(desc.preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                       h.workspace_bytes, "MAX_WORKSPACE_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(desc.preference,
                                       CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                       alignment_of(p.a), "MIN_ALIGNMENT_A_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(desc.preference,
                                       CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                       alignment_of(p.b), "MIN_ALIGNMENT_B_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(desc.preference,
                                       CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                       alignment_of(p.d), "MIN_ALIGNMENT_C_BYTES"));
  CLOZE_RETURN_IF_DEVICE_ERROR(set_preference(desc.preference,
                                       CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                       alignment_of(p.d), "MIN_ALIGNMENT_D_BYTES"));

  cublasLtMatmulHeuristicResult_t heuristic = {};
  int found = 0;
  CLOZE_RETURN_IF_DEVICE_ERROR(check_cublas(
      cublasLtMatmulAlgoGetHeuristic(h.lt, desc.operation, desc.a_layout, desc.b_layout,
                                     desc.d_layout, desc.d_layout, desc.preference, 1, &heuristic,
                                     &found),
      "cublasLtMatmulAlgoGetHeuristic"));
  if (found == 0) {
    return {"cublasLtMatmulAlgoGetHeuristic: no algorithm for m=" + std::to_string(p.m) +
            " n=" + std::to_string(p.n) + " k=" + std::to_string(p.k)};
  }
  const float alpha = 1.0f;
  return check_cublas(cublasLtMatmul(h.lt, desc.operation, &alpha, p.a, desc.a_layout, p.b,
                                     desc.b_layout, &p.beta, p.d, desc.d_layout, p.d,
                                     desc.d_layout, &heuristic.algo, h.workspace,
                                     h.workspace_bytes, /*stream=*/0),
                      "cublasLtMatmul");
}

// Row-major out (n, oc) = inp (n, c) · weightᵀ is column-major outᵀ (oc × n) =
// W (oc × c, stored as c × oc: transposed) · inpᵀ (c × n, stored as such).
DeviceStatus forward(BlasContext& context, cudaDataType_t type, float* out, const void* inp,
                     const void* weight, const float* bias, int64_t n, int64_t c, int64_t oc) {
  return run(context.handles(),
             {type, true, false, oc, n, c, weight, c, inp, c, 0.0f, out, oc, bias});
}

template <typename In>
__device__ __forceinline__ float to_float(In x) {
  return static_cast<float>(x);
}
template <>
__device__ __forceinline__ float to_float(__nv_bfloat16 x) {
  return __bfloat162float(x);
}

// One thread per column summing rows in order: the CPU's order, so fp32 results match it
// up to nothing at all, and bf16 ones up to the inputs' rounding.
template <typename In>
__global__ void bias_backward_kernel(float* dbias, const In* dout, int64_t n, int64_t c) {
  CLOZE_GRID_STRIDE_LOOP(i, c) {
    float sum = 0.0f;
    for (int64_t row = 0; row < n; ++row) sum += to_float(dout[row * c + i]);
    dbias[i] += sum;
  }
}

template <typename In>
DeviceStatus backward(BlasContext& context, cudaDataType_t type, float* dinp, float* dweight,
                      float* dbias, const In* dout, const In* inp, const In* weight, int64_t n,
                      int64_t c, int64_t oc) {
  // dinp (n, c) += dout (n, oc) · weight (oc, c): column-major dinpᵀ (c × n) =
  // W (stored c × oc) · doutᵀ (stored oc × n).
  if (dinp != nullptr) {
    CLOZE_RETURN_IF_DEVICE_ERROR(
        run(context.handles(), {type, false, false, c, n, oc, weight, c, dout, oc, 1.0f, dinp, c}));
  }
  // dweight (oc, c) += doutᵀ (oc, n) · inp (n, c): column-major dweightᵀ (c × oc) =
  // inpᵀ (stored c × n) · dout (n × oc, stored oc × n: transposed).
  if (dweight != nullptr) {
    CLOZE_RETURN_IF_DEVICE_ERROR(run(context.handles(),
                              {type, false, true, c, oc, n, inp, c, dout, oc, 1.0f, dweight, c}));
  }
  if (dbias != nullptr) bias_backward_kernel<<<grid_for(oc), kThreads>>>(dbias, dout, n, oc);
  return {};
}

bool empty(int64_t n, int64_t c, int64_t oc) { return n <= 0 || c <= 0 || oc <= 0; }

}  // namespace

DeviceStatus matmul_forward(BlasContext& context, float* out, const float* inp,
                            const float* weight, const float* bias, int64_t n, int64_t c,
                            int64_t oc) {
  if (empty(n, c, oc)) return {};
  return forward(context, CUDA_R_32F, out, inp, weight, bias, n, c, oc);
}

DeviceStatus matmul_backward(BlasContext& context, float* dinp, float* dweight, float* dbias,
                             const float* dout, const float* inp, const float* weight, int64_t n,
                             int64_t c, int64_t oc) {
  if (empty(n, c, oc)) return {};
  return backward(context, CUDA_R_32F, dinp, dweight, dbias, dout, inp, weight, n, c, oc);
}

DeviceStatus matmul_forward_bf16(BlasContext& context, float* out, const Bf16* inp,
                                 const Bf16* weight, const float* bias, int64_t n, int64_t c,
                                 int64_t oc) {
  if (empty(n, c, oc)) return {};
  return forward(context, CUDA_R_16BF, out, inp, weight, bias, n, c, oc);
}

DeviceStatus matmul_backward_bf16(BlasContext& context, float* dinp, float* dweight, float* dbias,
                                  const Bf16* dout, const Bf16* inp, const Bf16* weight,
                                  int64_t n, int64_t c, int64_t oc) {
  if (empty(n, c, oc)) return {};
  using B = __nv_bfloat16;
  return backward(context, CUDA_R_16BF, dinp, dweight, dbias, reinterpret_cast<const B*>(dout),
                  reinterpret_cast<const B*>(inp), reinterpret_cast<const B*>(weight), n, c, oc);
}

void bias_backward(float* dbias, const float* dout, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) return;  // a grid of zero blocks is a launch error
  bias_backward_kernel<<<grid_for(c), kThreads>>>(dbias, dout, n, c);
}

}  // namespace cloze::cuda
