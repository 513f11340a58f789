#include "model/heads/span_extraction.h"

#include <algorithm>
#include <span>
#include <vector>

#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/matmul.h"

namespace cloze {

SpanExtractionDefinition::SpanExtractionDefinition(const ModelConfig& config) : config_(config) {}

void SpanExtractionDefinition::AddParameters(LayoutBuilder& b) {
  b.AddLinear("qa_outputs", 2, config_.hidden_size(), weight, bias);
}

absl::Status SpanExtractionDefinition::ValidateLabels(const Batch& batch) const {
  return CheckLabels("labels", batch.labels, int64_t{2} * batch.batch_size, 0, batch.seq_len);
}

PredictionCounts SpanExtractionDefinition::CountPredictions(const Batch& batch) const {
  PredictionCounts counts;
  for (int i = 0; i < batch.batch_size; ++i) {
    counts.terms[kStartTerm] += batch.labels[i] >= 0;
    counts.terms[kEndTerm] += batch.labels[batch.batch_size + i] >= 0;
  }
  return counts;
}

namespace {

using namespace cpu;  // the ops

class CpuSpanExtractionHead : public Head {
 public:
  explicit CpuSpanExtractionHead(const ModelConfig& config) : def_(config) {}

  const HeadDefinition& definition() const override { return def_; }
  HeadDefinition& definition() override { return def_; }

  // Start and end are two products with one row of qa_outputs each, so each lands as a
  // contiguous (B, T) matrix of logits, ready for a softmax over positions.
  Losses Forward(const HeadInputs& in) override {
    const Batch& batch = *in.batch;
    const int64_t b = batch.batch_size, t = batch.seq_len, h = def_.config().hidden_size();
    Losses losses;
    for (int k : {kStartTerm, kEndTerm}) {
      Side& s = sides_[k];
      for (auto* buffer : {&s.logits, &s.probs, &s.d_logits}) buffer->assign(b * t, 0.0f);
      s.losses.assign(b, 0.0f);
      matmul_forward(s.logits.data(), in.hidden, in.parameters + def_.weight.offset + k * h,
                     in.parameters + def_.bias.offset + k, b * t, h, 1, in.precision);
      const int32_t* labels = batch.labels.data() + k * b;
      softmax_cross_entropy_forward(s.losses.data(), s.probs.data(), s.logits.data(), labels, b, t);
      losses.terms[k] = SummarizeTerm(s.losses, RowArgmax(s.logits, t), std::span<const int32_t>(labels, b));
    }
    losses.total_loss = 0.5 * losses.terms[kStartTerm].mean + 0.5 * losses.terms[kEndTerm].mean;
    return losses;
  }

  void Backward(const HeadInputs& in, const std::array<float, kMaxLossTerms>& scales,
                const HeadGradients& out) override {
    const Batch& batch = *in.batch;
    const int64_t b = batch.batch_size, t = batch.seq_len, h = def_.config().hidden_size();
    for (int k : {kStartTerm, kEndTerm}) {
      Side& s = sides_[k];
      std::fill(s.d_logits.begin(), s.d_logits.end(), 0.0f);
      softmax_cross_entropy_backward(s.d_logits.data(), s.probs.data(), batch.labels.data() + k * b, b, t, scales[k]);
      matmul_backward(out.hidden, out.parameters + def_.weight.offset + k * h, out.parameters + def_.bias.offset + k,
                      s.d_logits.data(), in.hidden, in.parameters + def_.weight.offset + k * h, b * t, h, 1,
                      in.precision);
    }
  }

  std::span<const float> logits(int output) const override { return sides_[output == 0 ? kStartTerm : kEndTerm].logits; }

 private:
  struct Side {
    std::vector<float> logits, probs, losses, d_logits;  // (B, T), (B, T), (B), (B, T)
  };
  SpanExtractionDefinition def_;
  Side sides_[2];
};

}  // namespace

std::unique_ptr<Head> MakeCpuSpanExtractionHead(const ModelConfig& config) {
  return std::make_unique<CpuSpanExtractionHead>(config);
}

}  // namespace cloze
