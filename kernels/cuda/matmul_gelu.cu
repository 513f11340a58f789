// The FFN's first dense layer with gelu_tanh fused into cuBLASLt's epilogue, and the input
// gradient of its second dense layer with gelu_tanh' fused likewise (matmul.h has the
// contracts). Each checks the epilogue's documented constraints and tries the fused
// product; where the constraints fail or cuBLASLt cannot run it, it runs the same product
// plainly and then the separate GELU kernels (activations.h), which give the same results.
#include "kernels/cuda/activations.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/matmul_products.cuh"

namespace cloze::cuda {
namespace {

bool empty(int64_t n, int64_t c, int64_t oc) { return n <= 0 || c <= 0 || oc <= 0; }

// Runs `fused` if its aux constraints hold and cuBLASLt can; *ran says whether it did.
DeviceStatus try_fused(BlasContext& context, const LtProduct& fused, bool* ran) {
  *ran = false;
  if (!gelu_aux_fusable(fused.aux, fused.aux_ld, fused.m)) return {};
  return try_run_product(context, fused, ran);
}

DeviceStatus gelu_forward(BlasContext& context, LtInputType type, float* out,
                          float* pre_activation, const void* inp, const void* weight,
                          const float* bias, int64_t n, int64_t c, int64_t oc) {
  if (empty(n, c, oc)) return {};
  // pre_activation (n, oc) row-major is column-major (oc × n) with leading dimension oc,
  // exactly D's layout.
  LtProduct fused = forward_product(type, out, inp, weight, bias, n, c, oc);
  fused.epilogue = bias != nullptr ? LtEpilogue::kGeluAuxBias : LtEpilogue::kGeluAux;
  fused.aux = pre_activation;
  fused.aux_ld = oc;
  bool ran = false;
  CLOZE_RETURN_IF_DEVICE_ERROR(try_fused(context, fused, &ran));
  if (ran) return {};
  CLOZE_RETURN_IF_DEVICE_ERROR(
      run_product(context, forward_product(type, pre_activation, inp, weight, bias, n, c, oc)));
  gelu_tanh_forward(out, pre_activation, n * oc);
  return {};
}

DeviceStatus dgelu_backward(BlasContext& context, LtInputType type, float* d_pre,
                            const void* dout, const void* weight, const float* pre_activation,
                            int64_t n, int64_t c, int64_t oc) {
  if (empty(n, c, oc)) return {};
  // beta 0: the epilogue applies to alpha·AB + beta·C, so accumulating into d_pre would
  // scale the old contents by gelu' too. d_pre and pre_activation (n, c) are both
  // column-major (c × n) with leading dimension c.
  LtProduct fused = input_gradient_product(type, d_pre, dout, weight, 0.0f, n, c, oc);
  fused.epilogue = LtEpilogue::kDGelu;
  fused.aux = const_cast<float*>(pre_activation);  // only read by the DGELU epilogue
  fused.aux_ld = c;
  bool ran = false;
  CLOZE_RETURN_IF_DEVICE_ERROR(try_fused(context, fused, &ran));
  if (ran) return {};
  CLOZE_RETURN_IF_DEVICE_ERROR(run_product(
      context, input_gradient_product(type, d_pre, dout, weight, 0.0f, n, c, oc)));
  gelu_tanh_backward_in_place(d_pre, pre_activation, n * c);
  return {};
}

}  // namespace

DeviceStatus matmul_gelu_forward(BlasContext& context, float* out, float* pre_activation,
                                 const float* inp, const float* weight, const float* bias,
                                 int64_t n, int64_t c, int64_t oc) {
  return gelu_forward(context, LtInputType::kFp32, out, pre_activation, inp, weight, bias, n, c,
                      oc);
}

DeviceStatus matmul_gelu_forward_bf16(BlasContext& context, float* out, float* pre_activation,
                                      const Bf16* inp, const Bf16* weight, const float* bias,
                                      int64_t n, int64_t c, int64_t oc) {
  return gelu_forward(context, LtInputType::kBf16, out, pre_activation, inp, weight, bias, n, c,
                      oc);
}

DeviceStatus matmul_dgelu_backward(BlasContext& context, float* d_pre, const float* dout,
                                   const float* weight, const float* pre_activation, int64_t n,
                                   int64_t c, int64_t oc) {
  return dgelu_backward(context, LtInputType::kFp32, d_pre, dout, weight, pre_activation, n, c,
                        oc);
}

DeviceStatus matmul_dgelu_backward_bf16(BlasContext& context, float* d_pre, const Bf16* dout,
                                        const Bf16* weight, const float* pre_activation,
                                        int64_t n, int64_t c, int64_t oc) {
  return dgelu_backward(context, LtInputType::kBf16, d_pre, dout, weight, pre_activation, n, c,
                        oc);
}

}  // namespace cloze::cuda
