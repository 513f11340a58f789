#include "model/gpu_linear.h"

#include <utility>

#include "kernels/cuda/activations.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/matmul.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "model/model_config.h"

namespace cloze {

using cpu::Activation;

void ZeroDeviceArray(DeviceArray<float>& a) { gpu::zero_bytes(a.get(), a.size() * sizeof(float)); }

namespace {

// Grows `a` to at least `size` elements (contents undefined).
template <typename T>
absl::Status Reserve(DeviceArray<T>& a, int64_t size, const char* what) {
  return size > a.size() ? a.Resize(size, what) : absl::OkStatus();
}

}  // namespace

GpuOps::GpuOps(const ModelConfig& config, const GpuModelOptions& options, std::unique_ptr<cuda::BlasContext> blas)
    : config_(config),
      options_(options),
      fuse_gelu_(options.fuse_gelu && ActivationOf(config) == Activation::kGeluTanh),
      blas_(std::move(blas)) {}

absl::Status GpuOps::Allocate(int64_t total) {
  if (absl::Status s = parameters_.Resize(total, "parameters"); !s.ok()) return s;
  if (absl::Status s = gradients_.Resize(total, "gradients"); !s.ok()) return s;
  if (bf16()) {
    if (absl::Status s = parameters_bf16_.Resize(total, "bf16 parameters"); !s.ok()) return s;
  }
  gpu::zero_bytes(parameters_.get(), total * sizeof(float));
  gpu::zero_bytes(gradients_.get(), total * sizeof(float));
  return FromDeviceStatus(cuda::device_synchronize(), "zeroing the parameters");
}

void GpuOps::RoundParameters() {
  if (bf16()) cuda::float_to_bf16(parameters_bf16_.get(), parameters_.get(), parameters_.size());
}

absl::Status GpuOps::ReserveMatmul(int64_t rows, int64_t in_columns, int64_t out_columns) {
  if (absl::Status s = Reserve(bias_scratch_, gpu::bias_gradient_scratch_floats(rows, out_columns),
                               "bias-gradient scratch");
      !s.ok()) {
    return s;
  }
  if (!bf16()) return absl::OkStatus();
  if (absl::Status s = Reserve(bf16_inp_, rows * in_columns, "bf16 matmul inputs"); !s.ok()) return s;
  return Reserve(bf16_dout_, rows * out_columns, "bf16 matmul gradients");
}

absl::Status GpuOps::Linear(float* out, MatmulInput inp, const TensorSlot& weight, const TensorSlot& bias, int64_t n,
                            int64_t c, int64_t oc, const char* what) {
  if (!bf16()) {
    return FromDeviceStatus(cuda::matmul_forward(*blas_, out, inp.values, w(weight), w(bias), n, c, oc), what);
  }
  return FromDeviceStatus(cuda::matmul_forward_bf16(*blas_, out, RoundedForForward(inp, n * c),
                                                    parameters_bf16_.get() + weight.offset, w(bias), n, c, oc),
                          what);
}

const cuda::Bf16* GpuOps::RoundedForForward(MatmulInput inp, int64_t size) {
  if (inp.rounded != nullptr && inp.ready) return inp.rounded;
  cuda::Bf16* rounded = inp.rounded != nullptr ? inp.rounded : bf16_inp_.get();
  cuda::float_to_bf16(rounded, inp.values, size);
  return rounded;
}

const cuda::Bf16* GpuOps::Rounded(MatmulInput inp, int64_t size) {
  if (inp.rounded != nullptr) return inp.rounded;
  cuda::float_to_bf16(bf16_inp_.get(), inp.values, size);
  return bf16_inp_.get();
}

absl::Status GpuOps::LinearBackward(float* dinp, const TensorSlot& weight, const TensorSlot& bias, const float* dout,
                                    MatmulInput inp, int64_t n, int64_t c, int64_t oc, const char* what,
                                    const cuda::Bf16* dout_bf16) {
  // The bias gradient from the fp32 dout (in both precisions), by our faster column sum
  // rather than the matmul op's (gpu_model_kernels.h says why).
  if (n > 0 && c > 0 && oc > 0) gpu::bias_gradient(g(bias), dout, n, oc, bias_scratch_.get());
  if (!bf16()) {
    return FromDeviceStatus(
        cuda::matmul_backward(*blas_, dinp, g(weight), nullptr, dout, inp.values, w(weight), n, c, oc), what);
  }
  if (dout_bf16 == nullptr) {
    cuda::float_to_bf16(bf16_dout_.get(), dout, n * oc);
    dout_bf16 = bf16_dout_.get();
  }
  return FromDeviceStatus(cuda::matmul_backward_bf16(*blas_, dinp, g(weight), nullptr, dout_bf16, Rounded(inp, n * c),
                                                     parameters_bf16_.get() + weight.offset, n, c, oc),
                          what);
}

absl::Status GpuOps::LinearActivation(float* out, float* pre, MatmulInput inp, const TensorSlot& weight,
                                      const TensorSlot& bias, int64_t n, int64_t c, int64_t oc, const char* what) {
  if (!fuse_gelu_) {
    if (absl::Status s = Linear(pre, inp, weight, bias, n, c, oc, what); !s.ok()) return s;
    ActivationForward(out, pre, n * oc);
    return absl::OkStatus();
  }
  if (!bf16()) {
    return FromDeviceStatus(
        cuda::matmul_gelu_forward(*blas_, out, pre, inp.values, w(weight), w(bias), n, c, oc), what);
  }
  return FromDeviceStatus(cuda::matmul_gelu_forward_bf16(*blas_, out, pre, RoundedForForward(inp, n * c),
                                                         parameters_bf16_.get() + weight.offset, w(bias), n, c, oc),
                          what);
}

absl::Status GpuOps::LinearActivationBackward(float* d_pre, float* d_act, const TensorSlot& weight,
                                              const TensorSlot& bias, const float* dout, MatmulInput act,
                                              const float* pre, int64_t n, int64_t c, int64_t oc, const char* what) {
  if (!fuse_gelu_) {
    // d_act and d_pre start at zero (the caller's); both ops add, as on the CPU.
    if (absl::Status s = LinearBackward(d_act, weight, bias, dout, act, n, c, oc, what); !s.ok()) return s;
    ActivationBackward(d_pre, pre, d_act, n * c);
    return absl::OkStatus();
  }
  if (!bf16()) {
    if (absl::Status s = LinearBackward(nullptr, weight, bias, dout, act, n, c, oc, what); !s.ok()) return s;
    return FromDeviceStatus(cuda::matmul_dgelu_backward(*blas_, d_pre, dout, w(weight), pre, n, c, oc), what);
  }
  // dout rounded once, for the weight gradient and the input gradient alike.
  cuda::float_to_bf16(bf16_dout_.get(), dout, n * oc);
  if (absl::Status s = LinearBackward(nullptr, weight, bias, dout, act, n, c, oc, what, bf16_dout_.get()); !s.ok()) {
    return s;
  }
  return FromDeviceStatus(cuda::matmul_dgelu_backward_bf16(*blas_, d_pre, bf16_dout_.get(),
                                                           parameters_bf16_.get() + weight.offset, pre, n, c, oc),
                          what);
}

void GpuOps::ActivationForward(float* out, const float* inp, int64_t n) {
  switch (ActivationOf(config_)) {
    case Activation::kGeluErf: return cuda::gelu_erf_forward(out, inp, n);
    case Activation::kGeluTanh: return cuda::gelu_tanh_forward(out, inp, n);
    case Activation::kRelu: return gpu::relu_forward(out, inp, n);
  }
}

void GpuOps::ActivationBackward(float* dinp, const float* inp, const float* dout, int64_t n) {
  switch (ActivationOf(config_)) {
    case Activation::kGeluErf: return cuda::gelu_erf_backward(dinp, inp, dout, n);
    case Activation::kGeluTanh: return cuda::gelu_tanh_backward(dinp, inp, dout, n);
    case Activation::kRelu: return gpu::relu_backward(dinp, inp, dout, n);
  }
}

}  // namespace cloze
