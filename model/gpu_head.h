// The CUDA twin of a task head (trainer/head.h): the same HeadDefinition (the head's class
// from trainer/heads/*.h, so tensors, slots, label checks, counts and loss weights are the
// CPU's by construction) and its forward and backward on device buffers, through the
// model's op context (gpu_linear.h). One file per head under trainer/gpu_heads/, each read
// beside its CPU twin under trainer/heads/: the same ops in the same order with the same
// dropout streams (HeadStream).
//
// Forward copies the batch's labels to the device, waits for the device, brings back the
// per-row losses and argmaxes (small) and forms the Losses on the host with
// SummarizeTerm / SummarizeRegression, exactly as the CPU heads do, so sums are taken in
// the CPU's order. Backward ADDS into the encoder's d_hidden / d_pooled and into the
// parameter gradients, and only enqueues work.
//
// Errors: Internal naming the op on a device failure, ResourceExhausted when buffers do not
// fit. Not thread-safe. Linked only where CUDA code is built.
#ifndef CLOZE_MODEL_GPU_HEAD_H_
#define CLOZE_MODEL_GPU_HEAD_H_

#include <array>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "model/batch.h"
#include "kernels/cuda/device_array.h"
#include "model/gpu_linear.h"
#include "model/head.h"
#include "model/head_spec.h"
#include "model/losses.h"
#include "model/parameter_layout.h"
#include "model/step_options.h"

namespace cloze {

// What a GPU head reads after the encoder's forward pass.
struct GpuHeadInputs {
  const Batch* batch = nullptr;   // host, validated (inputs and the head's labels)
  const float* hidden = nullptr;  // DEVICE (B·T, H) the encoder's last layer
  const float* pooled = nullptr;  // DEVICE (B, H); null unless uses_pooled_output()
  StepOptions options;
};

// Where a GPU head's backward adds its input gradients (DEVICE); parameter gradients go
// into the op context's gradients.
struct GpuHeadGradients {
  float* hidden = nullptr;  // (B·T, H)
  float* pooled = nullptr;  // (B, H); null unless uses_pooled_output()
};

class GpuHead {
 public:
  virtual ~GpuHead() = default;
  virtual const HeadDefinition& definition() const = 0;
  virtual HeadDefinition& definition() = 0;

  // Forward on validated inputs; keeps what Backward needs. Waits for the device.
  virtual absl::StatusOr<Losses> Forward(const GpuHeadInputs& in) = 0;
  // Adds scales[i] · d(Σ rows of term i)/d(...) for the last Forward (Head::Backward).
  virtual absl::Status Backward(const GpuHeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                                const GpuHeadGradients& out) = 0;
  // The last Forward's logits on the host, shaped as Head::logits(output); waits for the
  // device. InvalidArgument for an output the head does not have.
  virtual absl::StatusOr<std::vector<float>> DownloadLogits(int output) const = 0;
};

// The GPU head for `spec` (MakeHeadDefinition's checks and errors), computing through `ops`
// (which outlives it) on an encoder with `encoder_layout`.
absl::StatusOr<std::unique_ptr<GpuHead>> MakeGpuHead(const HeadSpec& spec, GpuOps* ops,
                                                     const ParameterLayout& encoder_layout);

// Resizes `device` to `host`'s size and copies it there.
template <typename T>
absl::Status UploadTo(DeviceArray<T>& device, const std::vector<T>& host, const char* what) {
  if (absl::Status s = device.Resize(static_cast<int64_t>(host.size()), what); !s.ok()) return s;
  return device.Upload(host, what);
}

// The whole of `device` on the host.
template <typename T>
absl::StatusOr<std::vector<T>> DownloadAll(const DeviceArray<T>& device, const char* what) {
  std::vector<T> host(device.size());
  if (absl::Status s = device.Download(host, what); !s.ok()) return s;
  return host;
}

}  // namespace cloze

#endif  // CLOZE_MODEL_GPU_HEAD_H_
