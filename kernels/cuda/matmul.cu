#include <cuda_bf16.h>
#include <cublasLt.h>

#include <cstdint>

#include "kernels/cuda/blas_handles.cuh"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/matmul_products.cuh"

namespace cloze::cuda {

LtProduct forward_product(LtInputType type, float* out, const void* inp, const void* weight,
                          const float* bias, int64_t n, int64_t c, int64_t oc) {
  return {.input_type = type,
          .trans_a = true,
          .trans_b = false,
          .m = oc,
          .n = n,
          .k = c,
          .a = weight,
          .lda = c,
          .b = inp,
          .ldb = c,
          .beta = 0.0f,
          .d = out,
          .ldd = oc,
          .epilogue = bias != nullptr ? LtEpilogue::kBias : LtEpilogue::kNone,
          .bias = bias};
}

LtProduct input_gradient_product(LtInputType type, float* dinp, const void* dout,
                                 const void* weight, float beta, int64_t n, int64_t c,
                                 int64_t oc) {
  return {.input_type = type,
          .trans_a = false,
          .trans_b = false,
          .m = c,
          .n = n,
          .k = oc,
          .a = weight,
          .lda = c,
          .b = dout,
          .ldb = oc,
          .beta = beta,
          .d = dinp,
          .ldd = c};
}

DeviceStatus run_product(BlasContext& context, const LtProduct& p) {
  BlasContext::Handles& h = context.handles();
  const LtPlan& plan = h.plans.find_or_create(h.lt, h.workspace_bytes, p);
  return launch(h.lt, h.workspace, h.workspace_bytes, plan, p);
}

DeviceStatus try_run_product(BlasContext& context, const LtProduct& p, bool* ran) {
  BlasContext::Handles& h = context.handles();
  LtPlan& plan = h.plans.find_or_create(h.lt, h.workspace_bytes, p);
  *ran = false;
  if (!plan.has_algorithm) return {};
  // cublasLtMatmul validates before it enqueues anything, so a rejected launch did no work.
  if (DeviceStatus launched = launch(h.lt, h.workspace, h.workspace_bytes, plan, p);
      !launched.ok()) {
    plan.has_algorithm = false;
    plan.unsupported = launched.error;
    return {};
  }
  *ran = true;
  return {};
}

namespace {

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
DeviceStatus backward(BlasContext& context, LtInputType type, float* dinp, float* dweight,
                      float* dbias, const In* dout, const In* inp, const In* weight, int64_t n,
                      int64_t c, int64_t oc) {
  // dinp (n, c) += dout (n, oc) · weight (oc, c).
  if (dinp != nullptr) {
    CLOZE_RETURN_IF_DEVICE_ERROR(run_product(
        context, input_gradient_product(type, dinp, dout, weight, 1.0f, n, c, oc)));
  }
  // dweight (oc, c) += doutᵀ (oc, n) · inp (n, c): column-major dweightᵀ (c × oc) =
  // inpᵀ (stored c × n) · dout (n × oc, stored oc × n: transposed).
  if (dweight != nullptr) {
    CLOZE_RETURN_IF_DEVICE_ERROR(run_product(context, {.input_type = type,
                                                       .trans_a = false,
                                                       .trans_b = true,
                                                       .m = c,
                                                       .n = oc,
                                                       .k = n,
                                                       .a = inp,
                                                       .lda = c,
                                                       .b = dout,
                                                       .ldb = oc,
                                                       .beta = 1.0f,
                                                       .d = dweight,
                                                       .ldd = c}));
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
  return run_product(context,
                     forward_product(LtInputType::kFp32, out, inp, weight, bias, n, c, oc));
}

DeviceStatus matmul_backward(BlasContext& context, float* dinp, float* dweight, float* dbias,
                             const float* dout, const float* inp, const float* weight, int64_t n,
                             int64_t c, int64_t oc) {
  if (empty(n, c, oc)) return {};
  return backward(context, LtInputType::kFp32, dinp, dweight, dbias, dout, inp, weight, n, c, oc);
}

DeviceStatus matmul_forward_bf16(BlasContext& context, float* out, const Bf16* inp,
                                 const Bf16* weight, const float* bias, int64_t n, int64_t c,
                                 int64_t oc) {
  if (empty(n, c, oc)) return {};
  return run_product(context,
                     forward_product(LtInputType::kBf16, out, inp, weight, bias, n, c, oc));
}

DeviceStatus matmul_backward_bf16(BlasContext& context, float* dinp, float* dweight, float* dbias,
                                  const Bf16* dout, const Bf16* inp, const Bf16* weight,
                                  int64_t n, int64_t c, int64_t oc) {
  if (empty(n, c, oc)) return {};
  using B = __nv_bfloat16;
  return backward(context, LtInputType::kBf16, dinp, dweight, dbias, reinterpret_cast<const B*>(dout),
                  reinterpret_cast<const B*>(inp), reinterpret_cast<const B*>(weight), n, c, oc);
}

void bias_backward(float* dbias, const float* dout, int64_t n, int64_t c) {
  if (n <= 0 || c <= 0) return;  // a grid of zero blocks is a launch error
  bias_backward_kernel<<<grid_for(c), kThreads>>>(dbias, dout, n, c);
}

}  // namespace cloze::cuda
