#include "model/model.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "model/initialize.h"

namespace cloze {

Model::Model(const ModelConfig& config, std::unique_ptr<Head> head, ParameterLayout layout, cpu::Precision precision,
             TokenLayout token_layout)
    : config_(config),
      layout_(std::move(layout)),
      precision_(precision),
      token_layout_(token_layout),
      head_(std::move(head)),
      encoder_(config, layout_, precision),
      parameters_(layout_.total_size, 0.0f),
      gradients_(layout_.total_size, 0.0f) {}

Model::Model(const ModelConfig& config) : Model(std::move(*Create(config, HeadSpec{}))) {}

// Packed only when the head reads no pad position of this batch: a token label at a pad
// (which the collators never write, but a caller may) makes the batch run padded.
TokenLayout Model::LayoutFor(const Batch& batch) const {
  if (token_layout_ != TokenLayout::kPacked || head().spec().kind != HeadKind::kTokenClassification) return token_layout_;
  for (size_t i = 0; i < batch.labels.size() && i < batch.attention_mask.size(); ++i) {
    if (batch.labels[i] >= 0 && batch.attention_mask[i] == 0) return TokenLayout::kPadded;
  }
  return token_layout_;
}

absl::StatusOr<Model> Model::Create(const ModelConfig& config, const HeadSpec& spec, cpu::Precision precision,
                                    TokenLayout token_layout) {
  if (token_layout == TokenLayout::kPacked && spec.kind != HeadKind::kSequenceClassification &&
      spec.kind != HeadKind::kTokenClassification) {
    return absl::InvalidArgumentError(absl::StrCat("the packed token layout is for heads that read real positions only; ",
                                                   HeadKindName(spec.kind), " reads pad positions too"));
  }
  absl::StatusOr<std::unique_ptr<Head>> head = MakeCpuHead(spec, config, BuildEncoderLayout(config));
  if (!head.ok()) return head.status();
  ParameterLayout layout = LayoutWithHead(config, (*head)->definition());
  return Model(config, std::move(*head), std::move(layout), precision, token_layout);
}

Model::~Model() = default;
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;

void Model::InitializeParameters(uint64_t seed) { InitializeParameterBuffer(layout_, config_, seed, parameters_); }

void Model::ZeroGradients() { std::fill(gradients_.begin(), gradients_.end(), 0.0f); }

HeadInputs Model::Inputs() const {
  return {.batch = &batch_,
          .parameters = parameters_.data(),
          .hidden = encoder_.hidden(),
          .pooled = head().uses_pooled_output() ? encoder_.pooled() : nullptr,
          .options = options_,
          .precision = precision_};
}

absl::StatusOr<Losses> Model::Forward(const Batch& batch, const StepOptions& options) {
  if (absl::Status s = ValidateInputs(batch, config_); !s.ok()) return s;
  if (absl::Status s = head().ValidateLabels(batch); !s.ok()) return s;
  batch_ = batch;
  options_ = options;
  has_forward_ = true;
  encoder_.Forward(parameters_.data(), batch_, options_, head().uses_pooled_output(), LayoutFor(batch_));
  losses_ = head_->Forward(Inputs());
  return losses_;
}

absl::Status Model::Backward(float loss_scale) {
  if (!has_forward_) return absl::FailedPreconditionError("Model::Backward without a Forward");
  return BackwardScaled(BatchTermScales(head().term_weights(), losses_, loss_scale));
}

absl::Status Model::Backward(const LossNormalizer& normalizer) {
  if (!has_forward_) return absl::FailedPreconditionError("Model::Backward without a Forward");
  return BackwardScaled(TermScales(head().term_weights(), normalizer));
}

absl::Status Model::BackwardScaled(const std::array<float, kMaxLossTerms>& scales) {
  encoder_.ZeroOutputGradients();
  const HeadGradients out{.parameters = gradients_.data(),
                          .hidden = encoder_.d_hidden(),
                          .pooled = head().uses_pooled_output() ? encoder_.d_pooled() : nullptr};
  head_->Backward(Inputs(), scales, out);
  encoder_.Backward(parameters_.data(), gradients_.data(), batch_);
  return absl::OkStatus();
}

}  // namespace cloze
