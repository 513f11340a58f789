#include "model/gpu_heads/classification.h"

#include <initializer_list>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/squared_error.h"
#include "kernels/cuda/gpu_model_kernels.h"
#include "model/heads/classification.h"

namespace cloze {
namespace {

class GpuClassificationHead : public GpuHead {
 public:
  GpuClassificationHead(const HeadSpec& spec, GpuOps* ops) : ops_(ops), def_(spec, ops->config()) {}

  const HeadDefinition& definition() const override { return def_; }
  HeadDefinition& definition() override { return def_; }

  absl::StatusOr<Losses> Forward(const GpuHeadInputs& in) override {
    const Batch& batch = *in.batch;
    GpuOps& ops = *ops_;
    const int64_t rows = def_.rows(batch), h = def_.config().hidden_size(), l = def_.spec().num_labels;
    const bool regression = def_.spec().is_regression();
    if (absl::Status s = Resize(rows, h, l); !s.ok()) return s;
    if (absl::Status s = regression ? UploadTo(targets_, batch.targets, "copying the targets to the device")
                                    : UploadTo(labels_, batch.labels, "copying the labels to the device");
        !s.ok()) {
      return s;
    }

    const float* x = def_.per_sequence() ? in.pooled : in.hidden;
    cuda::dropout_forward(dropped_.get(), x, rows * h, Dropout(in.options, batch));
    if (absl::Status s = ops.Linear(logits_.get(), dropped_.get(), def_.weight, def_.bias, rows, h, l,
                                    "classifier forward");
        !s.ok()) {
      return s;
    }
    if (regression) {
      cuda::squared_error_forward(losses_.get(), logits_.get(), targets_.get(), rows);
    } else {
      cuda::softmax_cross_entropy_forward(losses_.get(), probs_.get(), logits_.get(), labels_.get(), rows, l);
      gpu::row_argmax(argmax_.get(), logits_.get(), rows, l);
    }

    // Per-row losses (and argmaxes) come back; the sums are the CPU's, in its order.
    if (absl::Status s = FromDeviceStatus(cuda::device_synchronize(), "classification head forward"); !s.ok()) {
      return s;
    }
    absl::StatusOr<std::vector<float>> losses = DownloadAll(losses_, "classifier losses");
    if (!losses.ok()) return losses.status();
    Losses out;
    if (regression) {
      out.terms[0] = SummarizeRegression(*losses);
    } else {
      absl::StatusOr<std::vector<int32_t>> argmax = DownloadAll(argmax_, "classifier argmax");
      if (!argmax.ok()) return argmax.status();
      out.terms[0] = SummarizeTerm(*losses, *argmax, batch.labels);
    }
    out.total_loss = out.terms[0].mean;
    return out;
  }

  absl::Status Backward(const GpuHeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                        const GpuHeadGradients& out) override {
    const Batch& batch = *in.batch;
    GpuOps& ops = *ops_;
    const int64_t rows = def_.rows(batch), h = def_.config().hidden_size(), l = def_.spec().num_labels;
    ZeroDeviceArray(d_logits_);
    ZeroDeviceArray(d_dropped_);
    if (def_.spec().is_regression()) {
      cuda::squared_error_backward(d_logits_.get(), logits_.get(), targets_.get(), rows, scales[0]);
    } else {
      cuda::softmax_cross_entropy_backward(d_logits_.get(), probs_.get(), labels_.get(), rows, l, scales[0]);
    }
    if (absl::Status s = ops.LinearBackward(d_dropped_.get(), def_.weight, def_.bias, d_logits_.get(),
                                            dropped_.get(), rows, h, l, "classifier backward");
        !s.ok()) {
      return s;
    }
    cuda::dropout_backward(def_.per_sequence() ? out.pooled : out.hidden, d_dropped_.get(), rows * h,
                           Dropout(in.options, batch));
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<float>> DownloadLogits(int output) const override {
    if (output == 0) return DownloadAll(logits_, "classifier logits");
    return absl::InvalidArgumentError(
        absl::StrCat(HeadKindName(def_.spec().kind), " head: no logits output ", output, " (only 0)"));
  }

 private:
  // classifier_dropout_prob on the head's input, per example H (sequence) or T·H (token).
  cpu::DropoutSpec Dropout(const StepOptions& options, const Batch& batch) const {
    const ModelConfig& config = def_.config();
    const int64_t per_example =
        def_.per_sequence() ? config.hidden_size() : int64_t{batch.seq_len} * config.hidden_size();
    return DropoutAt(options, config.classifier_dropout_prob(), HeadStream(config.num_hidden_layers()), per_example);
  }

  absl::Status Resize(int64_t rows, int64_t h, int64_t l) {
    for (auto [buffer, size] : std::initializer_list<std::pair<DeviceArray<float>*, int64_t>>{
             {&dropped_, rows * h}, {&d_dropped_, rows * h}, {&logits_, rows * l}, {&probs_, rows * l},
             {&d_logits_, rows * l}, {&losses_, rows}}) {
      if (absl::Status s = buffer->Resize(size, "classification head activations"); !s.ok()) return s;
    }
    if (absl::Status s = argmax_.Resize(rows, "classifier argmax"); !s.ok()) return s;
    return ops_->ReserveMatmul(rows, h, l);
  }

  GpuOps* ops_;
  ClassificationDefinition def_;
  DeviceArray<int32_t> labels_, argmax_;  // (rows); labels unused for regression
  DeviceArray<float> targets_;            // (B), regression only
  DeviceArray<float> dropped_, logits_, probs_, losses_;  // (rows, H), (rows, L), (rows, L), (rows)
  DeviceArray<float> d_logits_, d_dropped_;
};

}  // namespace

std::unique_ptr<GpuHead> MakeGpuClassificationHead(const HeadSpec& spec, GpuOps* ops) {
  return std::make_unique<GpuClassificationHead>(spec, ops);
}

}  // namespace cloze
