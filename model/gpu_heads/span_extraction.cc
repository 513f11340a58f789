#include "model/gpu_heads/span_extraction.h"

#include <initializer_list>
#include <span>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "model/heads/span_extraction.h"

namespace cloze {
namespace {

class GpuSpanExtractionHead : public GpuHead {
 public:
  explicit GpuSpanExtractionHead(GpuOps* ops) : ops_(ops), def_(ops->config()) {}

  const HeadDefinition& definition() const override { return def_; }
  HeadDefinition& definition() override { return def_; }

  // As the CPU: start and end are two products with one row of qa_outputs each, so each
  // lands as a contiguous (B, T) matrix of logits, ready for a softmax over positions.
  absl::StatusOr<Losses> Forward(const GpuHeadInputs& in) override {
    const Batch& batch = *in.batch;
    GpuOps& ops = *ops_;
    const int64_t b = batch.batch_size, t = batch.seq_len, h = def_.config().hidden_size();
    if (absl::Status s = UploadTo(labels_, batch.labels, "copying the span labels to the device"); !s.ok()) return s;
    for (int k : {kStartTerm, kEndTerm}) {
      Side& s = sides_[k];
      for (auto [buffer, size] : std::initializer_list<std::pair<DeviceArray<float>*, int64_t>>{
               {&s.logits, b * t}, {&s.probs, b * t}, {&s.d_logits, b * t}, {&s.losses, b}}) {
        if (absl::Status status = buffer->Resize(size, "span head activations"); !status.ok()) return status;
      }
      if (absl::Status status = s.argmax.Resize(b, "span argmax"); !status.ok()) return status;
    }
    if (absl::Status s = ops.ReserveMatmul(b * t, h, 1); !s.ok()) return s;

    for (int k : {kStartTerm, kEndTerm}) {
      Side& s = sides_[k];
      if (absl::Status status = ops.Linear(s.logits.get(), in.hidden, Row(def_.weight, k, h), Row(def_.bias, k, 1),
                                           b * t, h, 1, k == kStartTerm ? "start logits forward" : "end logits forward");
          !status.ok()) {
        return status;
      }
      cuda::softmax_cross_entropy_forward(s.losses.get(), s.probs.get(), s.logits.get(), labels_.get() + k * b, b, t);
      gpu::row_argmax(s.argmax.get(), s.logits.get(), b, t);
    }

    if (absl::Status s = FromDeviceStatus(cuda::device_synchronize(), "span head forward"); !s.ok()) return s;
    Losses losses;
    for (int k : {kStartTerm, kEndTerm}) {
      absl::StatusOr<std::vector<float>> side_losses = DownloadAll(sides_[k].losses, "span losses");
      if (!side_losses.ok()) return side_losses.status();
      absl::StatusOr<std::vector<int32_t>> argmax = DownloadAll(sides_[k].argmax, "span argmax");
      if (!argmax.ok()) return argmax.status();
      losses.terms[k] =
          SummarizeTerm(*side_losses, *argmax, std::span<const int32_t>(batch.labels.data() + k * b, b));
    }
    losses.total_loss = 0.5 * losses.terms[kStartTerm].mean + 0.5 * losses.terms[kEndTerm].mean;
    return losses;
  }

  absl::Status Backward(const GpuHeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                        const GpuHeadGradients& out) override {
    const Batch& batch = *in.batch;
    GpuOps& ops = *ops_;
    const int64_t b = batch.batch_size, t = batch.seq_len, h = def_.config().hidden_size();
    for (int k : {kStartTerm, kEndTerm}) {
      Side& s = sides_[k];
      ZeroDeviceArray(s.d_logits);
      cuda::softmax_cross_entropy_backward(s.d_logits.get(), s.probs.get(), labels_.get() + k * b, b, t, scales[k]);
      if (absl::Status status =
              ops.LinearBackward(out.hidden, Row(def_.weight, k, h), Row(def_.bias, k, 1), s.d_logits.get(), in.hidden,
                                 b * t, h, 1, k == kStartTerm ? "start logits backward" : "end logits backward");
          !status.ok()) {
        return status;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<float>> DownloadLogits(int output) const override {
    if (output == 0) return DownloadAll(sides_[kStartTerm].logits, "start logits");
    if (output == 1) return DownloadAll(sides_[kEndTerm].logits, "end logits");
    return absl::InvalidArgumentError(absl::StrCat("span_extraction head: no logits output ", output, " (0 or 1)"));
  }

 private:
  struct Side {
    DeviceArray<float> logits, probs, losses, d_logits;  // (B, T), (B, T), (B), (B, T)
    DeviceArray<int32_t> argmax;                         // (B)
  };

  // Row k (of `width` elements) of a row-major tensor, as a slot of its own.
  static TensorSlot Row(const TensorSlot& slot, int k, int64_t width) {
    return {.offset = slot.offset + k * width, .size = width};
  }

  GpuOps* ops_;
  SpanExtractionDefinition def_;
  DeviceArray<int32_t> labels_;  // (2B): starts, then ends
  Side sides_[2];
};

}  // namespace

std::unique_ptr<GpuHead> MakeGpuSpanExtractionHead(GpuOps* ops) { return std::make_unique<GpuSpanExtractionHead>(ops); }

}  // namespace cloze
