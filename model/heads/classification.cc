#include "model/heads/classification.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/dropout.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/squared_error.h"

namespace cloze {

ClassificationDefinition::ClassificationDefinition(const HeadSpec& spec, const ModelConfig& config)
    : spec_(spec), config_(config) {}

void ClassificationDefinition::AddParameters(LayoutBuilder& b) {
  b.AddLinear("classifier", spec_.num_labels, config_.hidden_size(), weight, bias);
}

int64_t ClassificationDefinition::rows(const Batch& batch) const {
  return per_sequence() ? batch.batch_size : int64_t{batch.batch_size} * batch.seq_len;
}

absl::Status ClassificationDefinition::ValidateLabels(const Batch& batch) const {
  if (!spec_.is_regression()) return CheckLabels("labels", batch.labels, rows(batch), 0, spec_.num_labels);
  if (static_cast<int64_t>(batch.targets.size()) != batch.batch_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("Batch.targets: has ", batch.targets.size(), " elements, expected ", batch.batch_size));
  }
  for (size_t i = 0; i < batch.targets.size(); ++i) {
    if (!std::isfinite(batch.targets[i])) {
      return absl::InvalidArgumentError(absl::StrCat("Batch.targets[", i, "]: ", batch.targets[i], " is not finite"));
    }
  }
  return absl::OkStatus();
}

PredictionCounts ClassificationDefinition::CountPredictions(const Batch& batch) const {
  PredictionCounts counts;
  if (spec_.is_regression()) {
    counts.terms[0] = static_cast<int64_t>(batch.targets.size());
  } else {
    for (int32_t label : batch.labels) counts.terms[0] += label >= 0;
  }
  return counts;
}

namespace {

using namespace cpu;  // the ops

class CpuClassificationHead : public Head {
 public:
  CpuClassificationHead(const HeadSpec& spec, const ModelConfig& config) : def_(spec, config) {}

  const HeadDefinition& definition() const override { return def_; }
  HeadDefinition& definition() override { return def_; }

  Losses Forward(const HeadInputs& in) override {
    const Batch& batch = *in.batch;
    const int64_t rows = def_.rows(batch), h = def_.config().hidden_size(), l = def_.spec().num_labels;
    for (auto* buffer : {&dropped_, &d_dropped_}) buffer->assign(rows * h, 0.0f);
    for (auto* buffer : {&logits_, &probs_, &d_logits_}) buffer->assign(rows * l, 0.0f);
    losses_.assign(rows, 0.0f);

    const float* x = def_.per_sequence() ? in.pooled : in.hidden;
    dropout_forward(dropped_.data(), x, rows * h, Dropout(in.options, batch));
    matmul_forward(logits_.data(), dropped_.data(), in.parameters + def_.weight.offset,
                   in.parameters + def_.bias.offset, rows, h, l, in.precision);
    Losses losses;
    if (def_.spec().is_regression()) {
      squared_error_forward(losses_.data(), logits_.data(), batch.targets.data(), rows);
      losses.terms[0] = SummarizeRegression(losses_);
    } else {
      softmax_cross_entropy_forward(losses_.data(), probs_.data(), logits_.data(), batch.labels.data(), rows, l);
      losses.terms[0] = SummarizeTerm(losses_, RowArgmax(logits_, l), batch.labels);
    }
    losses.total_loss = losses.terms[0].mean;
    return losses;
  }

  void Backward(const HeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                const HeadGradients& out) override {
    const Batch& batch = *in.batch;
    const int64_t rows = def_.rows(batch), h = def_.config().hidden_size(), l = def_.spec().num_labels;
    std::fill(d_logits_.begin(), d_logits_.end(), 0.0f);
    std::fill(d_dropped_.begin(), d_dropped_.end(), 0.0f);
    if (def_.spec().is_regression()) {
      squared_error_backward(d_logits_.data(), logits_.data(), batch.targets.data(), rows, scales[0]);
    } else {
      softmax_cross_entropy_backward(d_logits_.data(), probs_.data(), batch.labels.data(), rows, l, scales[0]);
    }
    matmul_backward(d_dropped_.data(), out.parameters + def_.weight.offset, out.parameters + def_.bias.offset,
                    d_logits_.data(), dropped_.data(), in.parameters + def_.weight.offset, rows, h, l, in.precision);
    dropout_backward(def_.per_sequence() ? out.pooled : out.hidden, d_dropped_.data(), rows * h,
                     Dropout(in.options, batch));
  }

  std::span<const float> logits(int) const override { return logits_; }

 private:
  DropoutSpec Dropout(const StepOptions& options, const Batch& batch) const {
    const ModelConfig& config = def_.config();
    const int64_t per_example = def_.per_sequence() ? config.hidden_size() : int64_t{batch.seq_len} * config.hidden_size();
    return DropoutAt(options, config.classifier_dropout_prob(), HeadStream(config.num_hidden_layers()), per_example);
  }

  ClassificationDefinition def_;
  std::vector<float> dropped_, logits_, probs_, losses_;  // (rows, H), (rows, L), (rows, L), (rows)
  std::vector<float> d_logits_, d_dropped_;
};

}  // namespace

std::unique_ptr<Head> MakeCpuClassificationHead(const HeadSpec& spec, const ModelConfig& config) {
  return std::make_unique<CpuClassificationHead>(spec, config);
}

}  // namespace cloze
