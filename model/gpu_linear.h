// The GPU model's op context, shared by its encoder (gpu_encoder.h) and heads
// (gpu_head.h): the parameter and gradient device buffers, the cuBLAS context, the
// precision and fusion options, and the dense layers every part of the model is built of
// (Linear and its backward, the feed-forward's Linear + activation), with the bf16
// rounding and scratch they need. Encoder and heads hold no copy of any of these, so a
// head's matmul runs exactly as the encoder's does in either precision.
//
// Precision (gpu_model.h): kFp32 runs cuBLASLt in fp32. kBf16 multiplies the bf16
// roundings of the inputs and weights with fp32 accumulation: the weights' rounding is
// made once per Forward (RoundParameters); an input's is kept where a MatmulInput names a
// buffer for it (written by forward, read again by backward's weight gradient), else made
// in scratch at each use. Bias gradients come from the fp32 output gradient in both.
//
// Every call only enqueues work on the default stream; a failing cuBLAS call returns
// Internal naming `what`. Not thread-safe. Linked only where CUDA code is built.
#ifndef CLOZE_MODEL_GPU_LINEAR_H_
#define CLOZE_MODEL_GPU_LINEAR_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "kernels/cpu/activations.h"
#include "kernels/cuda/bf16.h"
#include "kernels/cuda/blas_context.h"
#include "proto/model_config.pb.h"
#include "kernels/cuda/device_array.h"
#include "model/gpu_model.h"
#include "model/parameter_layout.h"

namespace cloze {

// A matmul input: its fp32 values and, in kBf16, where its bf16 rounding lives. Forward
// (Linear) writes the rounding there, unless `ready` says the op that produced the values
// already did; backward (LinearBackward) reads the one forward left. Null: rounded into
// scratch at each use.
struct MatmulInput {
  MatmulInput(const float* values, cuda::Bf16* rounded = nullptr, bool ready = false)
      : values(values), rounded(rounded), ready(ready) {}
  const float* values;
  cuda::Bf16* rounded;
  bool ready;
};

class GpuOps {
 public:
  GpuOps(const ModelConfig& config, const GpuModelOptions& options, std::unique_ptr<cuda::BlasContext> blas);

  // Parameters and gradients of layout_size floats each, zeroed (and their bf16 rounding in
  // kBf16). ResourceExhausted/Internal on device failure.
  absl::Status Allocate(int64_t layout_size);

  const ModelConfig& config() const { return config_; }
  const GpuModelOptions& options() const { return options_; }
  GpuPrecision precision() const { return options_.precision; }
  bool bf16() const { return options_.precision == GpuPrecision::kBf16; }
  // The feed-forward's bias + GELU runs in cuBLASLt's epilogue (options.fuse_gelu and a
  // tanh-GELU config).
  bool fuse_gelu() const { return fuse_gelu_; }
  cuda::BlasContext& blas() { return *blas_; }

  DeviceArray<float>& parameters() { return parameters_; }
  const DeviceArray<float>& parameters() const { return parameters_; }
  DeviceArray<float>& gradients() { return gradients_; }
  const DeviceArray<float>& gradients() const { return gradients_; }
  const float* w(const TensorSlot& slot) const { return parameters_.get() + slot.offset; }
  float* g(const TensorSlot& slot) { return gradients_.get() + slot.offset; }

  // kBf16: rounds the parameters for this step's products (at the start of each Forward).
  void RoundParameters();

  // Makes the scratch big enough for a matmul of (rows, in_columns) → (rows, out_columns).
  // Every part reserves its products before running them (grow-only).
  absl::Status ReserveMatmul(int64_t rows, int64_t in_columns, int64_t out_columns);

  // out (n, oc) = inp (n, c) · Wᵀ + bias with W the parameter tensor at `weight`.
  absl::Status Linear(float* out, MatmulInput inp, const TensorSlot& weight, const TensorSlot& bias, int64_t n,
                      int64_t c, int64_t oc, const char* what);
  // Adds the gradients of Linear: into dinp (null: not wanted), and into the weight's and
  // bias's gradients. dout_bf16, where given, already holds dout rounded to bf16 (kBf16).
  absl::Status LinearBackward(float* dinp, const TensorSlot& weight, const TensorSlot& bias, const float* dout,
                              MatmulInput inp, int64_t n, int64_t c, int64_t oc, const char* what,
                              const cuda::Bf16* dout_bf16 = nullptr);
  // out = act(inp · Wᵀ + bias), keeping pre = inp · Wᵀ + bias; in one cuBLASLt call with
  // the GELU epilogue where fuse_gelu().
  absl::Status LinearActivation(float* out, float* pre, MatmulInput inp, const TensorSlot& weight,
                                const TensorSlot& bias, int64_t n, int64_t c, int64_t oc, const char* what);
  // Backward of LinearActivation followed by a Linear (W2 at `weight`): from dout (n, oc) of
  // that Linear, adds its weight and bias gradients and writes d_pre (n, c). Unfused, d_act
  // and d_pre must start at zero (both ops add); fused, d_pre is overwritten and d_act unused.
  absl::Status LinearActivationBackward(float* d_pre, float* d_act, const TensorSlot& weight, const TensorSlot& bias,
                                        const float* dout, MatmulInput act, const float* pre, int64_t n, int64_t c,
                                        int64_t oc, const char* what);
  // The config's hidden activation, as the CPU's activation_forward/backward (backward adds).
  void ActivationForward(float* out, const float* inp, int64_t n);
  void ActivationBackward(float* dinp, const float* inp, const float* dout, int64_t n);

 private:
  // In kBf16, the bf16 rounding of inp for forward: written into inp.rounded (or scratch)
  // unless `ready` says it is there already.
  const cuda::Bf16* RoundedForForward(MatmulInput inp, int64_t size);
  // In kBf16, the bf16 rounding of inp for backward: the one forward left, or made now in scratch.
  const cuda::Bf16* Rounded(MatmulInput inp, int64_t size);

  ModelConfig config_;
  GpuModelOptions options_;
  bool fuse_gelu_;
  std::unique_ptr<cuda::BlasContext> blas_;
  DeviceArray<float> parameters_, gradients_;
  DeviceArray<cuda::Bf16> parameters_bf16_;  // kBf16 only
  DeviceArray<float> bias_scratch_;          // gpu::bias_gradient's partial sums
  DeviceArray<cuda::Bf16> bf16_inp_, bf16_dout_;  // kBf16 only
};

// Sets a device float buffer to zero.
void ZeroDeviceArray(DeviceArray<float>& a);

}  // namespace cloze

#endif  // CLOZE_MODEL_GPU_LINEAR_H_
